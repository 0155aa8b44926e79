using Claims.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Claims.Tests.Contract;

/// <summary>
/// Clients generated from the document the API serves run the seed-story tour against the API on
/// a real port: C# by Kiota (a local dotnet tool, .config/dotnet-tools.json), TypeScript by
/// openapi-typescript with openapi-fetch (tests/Claims.Clients/typescript/package-lock.json). The
/// tours live in tests/Claims.Clients; each test copies one into a run folder of its own beside it
/// (.runs/, ignored by git), generates the client there, compiles and runs it. Each test has an API
/// process and a database with the seed story of its own, so the tour's count has one right answer.
/// </summary>
public sealed class GeneratedClientTests(ITestOutputHelper output)
{
    /// <summary>The page size both tours page GET /claims with.</summary>
    private const int PageSize = 3;

    // What the API answers today; when problems get types of their own, these change with them.
    private const string ConfirmNeedsSupport = "/problems/confirm-needs-support A claim can be confirmed only with supporting evidence.";
    private const string UnknownKey = "/problems/unauthenticated An API key is required.";

    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan TourTimeout = TimeSpan.FromMinutes(2);
    private static readonly Lazy<Task> KiotaRestored = new(RestoreKiotaAsync);

    // The .NET CLI's first-run text and telemetry, and Kiota's update check, tutorial hints and
    // telemetry, are noise in a test (and the update check asks a host CI cannot reach).
    private static readonly Dictionary<string, string> DotnetQuiet = new()
    {
        ["DOTNET_NOLOGO"] = "1",
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["KIOTA_OFFLINE_ENABLED"] = "true",
        ["KIOTA_TUTORIAL_ENABLED"] = "false",
        ["KIOTA_CLI_TELEMETRY_OPTOUT"] = "true",
        ["KIOTA_CONSOLE_COLORS_ENABLED"] = "false",
    };

    [Fact]
    public async Task TheSeedStoryTourRunsThroughACSharpClientThatKiotaGenerates()
    {
        await using var api = await TourApi.StartAsync();
        await KiotaRestored.Value;
        var run = await RunFolder.CreateAsync("csharp", await api.DocumentAsync(), output);

        await run.StepAsync("kiota generate", Dotnet(run.Folder, BuildTimeout,
            "kiota", "generate", "--language", "CSharp", "--openapi", RunFolder.Document, "--output", "Client",
            "--namespace-name", "Tour.Client", "--class-name", "ClaimsClient", "--exclude-backward-compatible", "--clean-output", "--log-level", "Warning"));
        // Without build servers: none of them outlives the test.
        await run.StepAsync("dotnet build (the tour against the generated client)", Dotnet(run.Folder, BuildTimeout,
            "build", "Tour.csproj", "--nologo", "-v", "q", "--disable-build-servers"));
        var tour = await run.StepAsync("the tour", Dotnet(run.Folder, TourTimeout,
            "run", "--no-build", "--project", "Tour.csproj", "--", api.Address, api.AdminKey));

        Assert.Equal(ExpectedTour(await api.CountClaimsAsync()), Lines(tour));
        run.Delete();
    }

    [Fact]
    public async Task TheSeedStoryTourRunsThroughATypeScriptClientThatOpenApiFetchTypes()
    {
        await using var api = await TourApi.StartAsync();
        await NodeTools.EnsureInstalledAsync(RunFolder.Template("typescript"));
        var run = await RunFolder.CreateAsync("typescript", await api.DocumentAsync(), output);

        await run.StepAsync("openapi-typescript", NodeTools.RunAsync(run.Folder, "openapi-typescript", RunFolder.Document, "--output", "schema.d.ts"));
        // tsconfig.json is strict with noEmitOnError: one tsc run type-checks and, only when
        // that passes, writes dist/tour.js.
        await run.StepAsync("tsc (the tour against the generated types)", NodeTools.RunAsync(run.Folder, "tsc", "--project", "tsconfig.json"));
        var tour = await run.StepAsync("the tour", NodeTools.RunAsync(run.Folder, TourTimeout, "node", "dist/tour.js", api.Address, api.AdminKey));

        Assert.Equal(ExpectedTour(await api.CountClaimsAsync()), Lines(tour));
        run.Delete();
    }

    private static string[] ExpectedTour(int claims)
    {
        Assert.True(claims > PageSize, $"The seed story has too few claims ({claims}) for the tour to turn a page.");
        return
        [
            "source: South Korea's National Intelligence Service (government, B), version 1",
            "claim: North Korea has sent about 1,500 special forces soldiers to Russia. (unverified, version 1, 1 evidence item)",
            $"refused: 409 {ConfirmNeedsSupport}",
            "supported: US government supports, claim version 2",
            "confirmed: confirmed, with If-Match \"2\"",
            "status: confirmed, 1 asserts, 1 supports",
            "history: null -> unverified, unverified -> confirmed",
            $"paged: {claims} claims in {(claims + PageSize - 1) / PageSize} pages",
            $"unauthorized: 401 {UnknownKey}",
        ];
    }

    private static string[] Lines(string output) =>
        output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static Task<(int ExitCode, string Output)> Dotnet(string folder, TimeSpan timeout, params string[] args) =>
        ChildProcess.RunAsync("dotnet", args, folder, timeout, DotnetQuiet);

    /// <summary>Kiota comes from the repository's tool manifest; restoring is quick once it is there.</summary>
    private static async Task RestoreKiotaAsync()
    {
        var (exitCode, output) = await ChildProcess.RunAsync("dotnet", ["tool", "restore"], Repository.Root, BuildTimeout, DotnetQuiet);
        if (exitCode != 0)
        {
            throw new InvalidOperationException(
                $"dotnet tool restore failed, so Kiota (.config/dotnet-tools.json) is not installed; NuGet must be reachable:{Environment.NewLine}{output}");
        }
    }

    /// <summary>
    /// A copy of a tour from tests/Claims.Clients/{language} in a folder of its own below it, so
    /// that the repository's build settings and the template's node_modules apply to it, with the
    /// served document beside it. A failed test leaves it for a look; a passed one deletes it.
    /// </summary>
    private sealed class RunFolder
    {
        public const string Document = "openapi.json";

        private readonly ITestOutputHelper _output;

        private RunFolder(string folder, ITestOutputHelper output) => (Folder, _output) = (folder, output);

        public string Folder { get; }

        public static string Template(string language) => Repository.Folder("tests", "Claims.Clients", language);

        public static async Task<RunFolder> CreateAsync(string language, string document, ITestOutputHelper output)
        {
            var template = Template(language);
            var folder = Path.Combine(template, ".runs", Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(folder);
            foreach (var file in Directory.EnumerateFiles(template))
            {
                File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
            }

            await File.WriteAllTextAsync(Path.Combine(folder, Document), document);
            return new RunFolder(folder, output);
        }

        /// <summary>Runs one step and fails the test with its output unless it exits 0; returns the output.</summary>
        public async Task<string> StepAsync(string step, Task<(int ExitCode, string Output)> running)
        {
            var (exitCode, text) = await running;
            _output.WriteLine($"== {step}: exit {exitCode}{Environment.NewLine}{text}");
            Assert.True(exitCode == 0, $"{step} exited with {exitCode} in {Folder}:{Environment.NewLine}{text}");
            return text;
        }

        public void Delete() => Directory.Delete(Folder, recursive: true);
    }

    /// <summary>The API as its own process on a free port and a database of its own with the seed story.</summary>
    private sealed class TourApi : IAsyncDisposable
    {
        private readonly string _database;
        private readonly ApiServer _server;

        private TourApi(string database, ApiServer server) => (_database, _server) = (database, server);

        public string Address => _server.Address.ToString();

        public string AdminKey => _server.AdminKey;

        public static async Task<TourApi> StartAsync()
        {
            var database = await TestDatabase.CreateAsync();
            try
            {
                return new TourApi(database, await ApiServer.StartAsync(database, new Dictionary<string, string> { ["Database:SeedWhenEmpty"] = "true" }));
            }
            catch
            {
                await TestDatabase.DropAsync(database);
                throw;
            }
        }

        /// <summary>The OpenAPI document as the API serves it, byte for byte.</summary>
        public async Task<string> DocumentAsync()
        {
            using var client = _server.CreateClient(apiKey: null);
            using var response = await client.GetAsync("/swagger/v1/swagger.json");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }

        /// <summary>How many claims there are, read in one page without a client of the document's.</summary>
        public async Task<int> CountClaimsAsync()
        {
            using var client = _server.CreateClient(AdminKey);
            var page = await (await client.GetAsync("/claims?limit=200")).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal(JsonValueKind.Null, page.GetProperty("nextCursor").ValueKind);
            return page.GetProperty("items").GetArrayLength();
        }

        public async ValueTask DisposeAsync()
        {
            await _server.DisposeAsync();
            await TestDatabase.DropAsync(_database);
        }
    }
}
