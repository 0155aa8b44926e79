using System.Text;
using System.Text.RegularExpressions;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Claims.Tests.Infrastructure;

/// <summary>What the desk's browser tests check on any page: accessibility with axe, and screenshots kept as artifacts.</summary>
public static partial class PageChecks
{
    /// <summary>Names the screenshot folder when it is not TestResults/desk-screenshots in the checkout.</summary>
    public const string ScreenshotsVariable = "CLAIMS_SCREENSHOTS";

    // One rule broken by a shared style (a colour, say) can name every element of a long page.
    private const int ElementsNamed = 10;

    private static readonly HashSet<string> Blocking = ["serious", "critical"];

    /// <summary>
    /// Where <see cref="SaveScreenshotAsync"/> writes; git ignores the default. A relative
    /// <c>CLAIMS_SCREENSHOTS</c> is taken from the checkout's root, as .ci/run reads it.
    /// </summary>
    public static string ScreenshotFolder =>
        Environment.GetEnvironmentVariable(ScreenshotsVariable) is { Length: > 0 } configured
            ? Path.GetFullPath(configured, Repository.Root)
            : Repository.Folder("TestResults", "desk-screenshots");

    /// <summary>
    /// Saves the whole page, scrolled or not, as <paramref name="name"/>.png in
    /// <see cref="ScreenshotFolder"/> (a later run overwrites it) and returns the file's path.
    /// A name is a plain file name, such as "03-claim-page".
    /// </summary>
    public static async Task<string> SaveScreenshotAsync(this IPage page, string name)
    {
        if (!FileName().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a plain file name: use letters, digits, '-' and '_'.", nameof(name));
        }

        var path = Path.Combine(ScreenshotFolder, name + ".png");
        Directory.CreateDirectory(ScreenshotFolder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true, Type = ScreenshotType.Png });
        return path;
    }

    /// <summary>
    /// Runs axe on the page as it is now and fails, naming each rule, its impact, its help and the
    /// elements, when any violation is serious or critical; minor and moderate ones pass.
    /// <paramref name="what"/> names the page or the step in the message.
    /// </summary>
    public static async Task AssertAccessibleAsync(this IPage page, string what)
    {
        // Only violations are asked for: the passes and the inapplicable rules, which a report
        // would list too, cost time and say nothing here.
        var result = await page.RunAxe(new AxeRunOptions { ResultTypes = [ResultType.Violations] });
        var blocking = result.Violations.Where(v => v.Impact is not null && Blocking.Contains(v.Impact)).ToList();
        if (blocking.Count == 0)
        {
            return;
        }

        var message = new StringBuilder($"{what} ({page.Url}) has {blocking.Count} serious or critical accessibility violation(s) by axe-core {result.TestEngine?.Version}:");
        foreach (var violation in blocking)
        {
            message.Append($"{Environment.NewLine}- {violation.Id} ({violation.Impact}): {violation.Help} <{violation.HelpUrl}>");
            foreach (var node in violation.Nodes.Take(ElementsNamed))
            {
                message.Append($"{Environment.NewLine}    at {node.Target}");
            }

            if (violation.Nodes.Length > ElementsNamed)
            {
                message.Append($"{Environment.NewLine}    and {violation.Nodes.Length - ElementsNamed} more");
            }
        }

        Assert.Fail(message.ToString());
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")]
    private static partial Regex FileName();
}
