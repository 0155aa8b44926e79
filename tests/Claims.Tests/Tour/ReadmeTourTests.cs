using System.Diagnostics;
using System.Text.RegularExpressions;
using Claims.Tests.Infrastructure;

namespace Claims.Tests.Tour;

/// <summary>
/// The README's curl tour is tests/tour/tour.sh, shown verbatim: the script runs against the built
/// API on a freshly seeded database, as a reader of the README would run it.
/// </summary>
public sealed partial class ReadmeTourTests
{
    private const string StartMarker = "<!-- tour:start -->";
    private const string EndMarker = "<!-- tour:end -->";

    private static readonly string Root = Repository.Root;
    private static readonly string Script = Path.Combine(Root, "tests", "tour", "tour.sh");

    [Fact]
    public void TheReadmeShowsTheTourScriptVerbatim()
    {
        var readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        var start = readme.IndexOf(StartMarker, StringComparison.Ordinal);
        var end = readme.IndexOf(EndMarker, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"README.md has no {StartMarker} ... {EndMarker} section.");

        var shown = readme[(start + StartMarker.Length)..end];

        Assert.Equal($"\n```bash\n{File.ReadAllText(Script)}```\n", shown);
    }

    [Fact]
    public async Task TheTourRunsAsWrittenAgainstTheSeedStoryAndRunsAgain()
    {
        RequireTools("bash", "curl", "jq");
        var seed = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "seeds", "seed-story.json"))).RootElement;
        var bermudez = seed.GetProperty("sources").EnumerateArray().Single(s => s.Str("name") == "Joseph S. Bermudez Jr.").Id();
        var database = await TestDatabase.CreateAsync();
        try
        {
            await using var server = await ApiServer.StartAsync(database, new Dictionary<string, string> { ["Database:SeedWhenEmpty"] = "true" });

            var first = await RunTourAsync(server);
            var second = await RunTourAsync(server);

            Assert.True(first.ExitCode == 0, first.Output);
            Assert.True(second.ExitCode == 0, second.Output);
            // Sources found by name, then: log, replay, 409, support, status, confirm, 304, history, two pages, 401.
            Assert.Equal([200, 200, 201, 201, 409, 201, 200, 200, 304, 200, 200, 200, 401], StatusLines(first.Output));
            Assert.Contains($"Bermudez: {bermudez},", first.Output, StringComparison.Ordinal);
            Assert.Contains("Idempotent-Replayed: true", first.Output, StringComparison.OrdinalIgnoreCase);
            Assert.Matches(@"(?im)^ETag: ""[^""]+""$", first.Output);
            Assert.Matches(@"(?im)^Location: /claims/[0-9a-f-]{36}$", first.Output);
            Assert.Matches(@"(?im)^Link: <http://[^>]+cursor=[^>]+>; rel=""next""$", first.Output);
            Assert.Contains("{\"status\":\"confirmed\",", first.Output, StringComparison.Ordinal);
            using var client = server.CreateClient(server.AdminKey);
            var stats = await (await client.GetAsync("/stats")).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal(seed.GetProperty("sources").GetArrayLength(), stats.GetProperty("sources").GetInt32());
            Assert.Equal(seed.GetProperty("claims").GetArrayLength() + 2, stats.GetProperty("claims").GetInt32());
            var confirmedBefore = seed.GetProperty("claims").EnumerateArray().Count(c => c.Str("status") == "confirmed");
            Assert.Equal(confirmedBefore + 2, stats.GetProperty("claimsByStatus").GetProperty("confirmed").GetInt32());
        }
        finally
        {
            await TestDatabase.DropAsync(database);
        }
    }

    private static Task<(int ExitCode, string Output)> RunTourAsync(ApiServer server) =>
        ChildProcess.RunAsync("bash", [Script], Root, TimeSpan.FromSeconds(60), new Dictionary<string, string>
        {
            ["CLAIMS_URL"] = server.Address.ToString().TrimEnd('/'),
            ["CLAIMS_KEY"] = server.AdminKey,
        });

    private static int[] StatusLines(string output) =>
        [.. StatusLine().Matches(output).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];

    [GeneratedRegex(@"(?m)^HTTP/1\.1 (\d{3}) ")]
    private static partial Regex StatusLine();

    private static void RequireTools(params string[] programs)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator);
        var missing = programs.Where(p => !path.Any(d => File.Exists(Path.Combine(d, p)))).ToList();
        Assert.True(missing.Count == 0, $"The README's tour needs {string.Join(" and ", missing)}. Fix: apt-get install -y curl jq");
    }
}
