using System.Text.Json;
using System.Text.RegularExpressions;
using Claims.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Claims.Tests;

/// <summary>
/// The document the API serves passes the three linters integrators run: Redocly's recommended
/// rules and Spectral's OpenAPI rules with no finding at all, and the OWASP API security ruleset
/// with no error. The linters are pinned in tests/openapi-lint/package-lock.json and installed
/// from there (npm ci) by the test itself; their configurations sit beside it.
/// </summary>
public sealed partial class OpenApiLintTests(ApiFactory api, ITestOutputHelper output) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private static readonly string Linters = Repository.Folder("tests", "openapi-lint");
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "claims-lint-" + Guid.NewGuid().ToString("N"));
    private string _document = "";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        _document = Path.Combine(_folder, "openapi.json");
        var response = await api.CreateClient().GetAsync("/swagger/v1/swagger.json");
        await File.WriteAllTextAsync(_document, (await response.ReadJsonAsync(HttpStatusCode.OK)).GetRawText());
        await NodeTools.EnsureInstalledAsync(Linters);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task RedoclyRecommendedFindsNothing()
    {
        var (exitCode, text) = await NodeTools.RunAsync(Linters, "redocly", "lint", _document, "--config", "redocly.yaml", "--format=json");

        // Redocly prints a notice about the Node.js version around the JSON.
        var report = JsonDocument.Parse(text[text.IndexOf('{')..(text.LastIndexOf('}') + 1)]).RootElement;
        var totals = report.GetProperty("totals");
        var findings = report.GetProperty("problems").EnumerateArray()
            .Select(p => $"{p.GetProperty("ruleId").GetString()}: {p.GetProperty("message").GetString()}").ToList();
        Assert.True(totals.GetProperty("errors").GetInt32() == 0 && totals.GetProperty("warnings").GetInt32() == 0,
            $"Redocly (exit {exitCode}): {string.Join(Environment.NewLine, findings)}");
        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task SpectralOpenApiRulesFindNothing()
    {
        var findings = await SpectralAsync("spectral-oas.yaml");

        Assert.True(findings.Count == 0, string.Join(Environment.NewLine, findings.Select(f => f.Describe())));
    }

    [Fact]
    public async Task TheOwaspRulesetFindsNoError()
    {
        var findings = await SpectralAsync("spectral-owasp.yaml");

        var errors = findings.Where(f => f.Severity == 0).ToList();
        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors.Select(f => f.Describe())));
        output.WriteLine($"OWASP warnings (reported, not failed): {findings.Count}");
        foreach (var group in findings.GroupBy(f => f.Code).OrderBy(g => g.Key))
        {
            output.WriteLine($"  {group.Key}: {group.Count()}");
        }
    }

    [Fact]
    public void EveryRuleTheOwaspConfigurationChangesSaysWhy()
    {
        var lines = File.ReadAllLines(Path.Combine(Linters, "spectral-owasp.yaml"));

        var changed = lines.Select((line, index) => (line, index)).Where(l => RuleSetting().IsMatch(l.line)).ToList();
        Assert.NotEmpty(changed);
        Assert.All(changed, rule =>
        {
            // The reason is the comment above the rule, or above the override block it sits in.
            var above = lines.Take(rule.index).Reverse().SkipWhile(l => !l.TrimStart().StartsWith('#')
                && (RuleSetting().IsMatch(l) || l.TrimStart().StartsWith("rules:", StringComparison.Ordinal) || l.TrimStart().StartsWith("- files:", StringComparison.Ordinal)));
            Assert.True(above.FirstOrDefault()?.TrimStart().StartsWith('#') == true, $"No reason above '{rule.line.Trim()}'.");
        });
    }

    private async Task<List<Finding>> SpectralAsync(string ruleset)
    {
        var report = Path.Combine(_folder, Path.ChangeExtension(ruleset, ".json"));
        var (exitCode, text) = await NodeTools.RunAsync(Linters, "spectral", "lint", _document, "--ruleset", ruleset, "--format", "json", "--output", report, "--fail-severity", "error");
        Assert.True(File.Exists(report), $"Spectral wrote no report (exit {exitCode}): {text}");
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(report));
        return [.. json.RootElement.EnumerateArray().Select(f => new Finding(
            f.GetProperty("code").GetString()!, f.GetProperty("severity").GetInt32(), f.GetProperty("message").GetString()!,
            string.Join('/', f.GetProperty("path").EnumerateArray().Select(p => p.ToString()))))];
    }

    [GeneratedRegex(@"^\s+owasp:[\w:-]+:\s*(off|warn|info|hint)\s*$")]
    private static partial Regex RuleSetting();

    private sealed record Finding(string Code, int Severity, string Message, string Path)
    {
        public string Describe() => $"{Code} at {Path}: {Message}";
    }
}
