using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Claims.Api.Data;
using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Hostile;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Claims.Benchmarks;

/// <summary>
/// The long versions of what the test suite checks in small doses: a fault soak (writers while
/// the API is killed and PostgreSQL restarted) and a fuzz run of requests generated from the
/// OpenAPI document. Each runs the published API against a private PostgreSQL of its own, which
/// it may restart and which it removes afterwards.
/// </summary>
public static partial class BenchmarkRun
{
    public static async Task<int> SoakAsync(TimeSpan duration, bool writeReadme, TextWriter output)
    {
        await using var setup = await ReliabilitySetup.StartAsync("claims_soak", output);
        var api = setup.Api;
        var soak = new FaultSoak(api.BaseAddress, Key, setup.ConnectionString);
        Fault[] faults =
        [
            Fault.KillApi(api, TimeSpan.FromSeconds(20)),
            Fault.RestartDatabase(setup.StopDatabaseAsync, setup.StartDatabaseAsync, down: TimeSpan.FromSeconds(2), every: TimeSpan.FromSeconds(30)),
        ];
        output.WriteLine($"Soaking for {duration.TotalMinutes:F0} min: 4 writers with an Idempotency-Key, 4 without; the API killed every 20 s, PostgreSQL restarted every 30 s ...");
        var report = await soak.RunAsync(duration, writersWithKey: 4, writersWithoutKey: 4, faults);
        var text = $"Fault soak (`soak`, {DateTime.UtcNow:yyyy-MM-dd}): {report}";
        output.WriteLine(text);
        if (writeReadme)
        {
            WriteReadme(Path.Combine(RepositoryRoot(), "README.md"), "soak", text);
        }

        return report.Holds ? 0 : 1;
    }

    public static async Task<int> FuzzAsync(int requests, bool writeReadme, TextWriter output)
    {
        await using var setup = await ReliabilitySetup.StartAsync("claims_fuzz", output);
        // Header values go out as UTF-8 bytes, as a hostile client would send them; HttpClient
        // would otherwise refuse to send what the generator made (an Idempotency-Key "ключ").
        using var handler = new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 };
        using var http = new HttpClient(handler) { BaseAddress = setup.Api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var admin = new HttpClient { BaseAddress = setup.Api.BaseAddress };
        admin.DefaultRequestHeaders.Add("X-Api-Key", Key);
        var document = JsonDocument.Parse(await admin.GetStringAsync("/swagger/v1/swagger.json")).RootElement.Clone();
        var known = await OpenApiFuzz.PrepareAsync(admin, Key);

        var statuses = new ConcurrentDictionary<int, int>();
        var violations = new ConcurrentBag<string>();
        var refusedByServer = 0;
        var clock = Stopwatch.StartNew();
        output.WriteLine($"Sending {requests:N0} generated requests ...");
        // Each request is checked and counted, never thrown: the run goes to the end and reports every violation.
        await OpenApiFuzz.Requests(document, known).SampleAsync(async request =>
        {
            using var message = request.ToMessage(known);
            var (response, body) = await OpenApiFuzz.SendAsync(http, message);
            using var answer = response;
            statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
            if (IsWebServerRefusal(response, body))
            {
                // Kestrel refuses malformed header bytes itself, with a bare 400 (README, "What the web server refuses itself").
                Interlocked.Increment(ref refusedByServer);
            }
            else if (OpenApiFuzz.Violation(request, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body) is { } violation)
            {
                violations.Add(violation);
            }
        }, iter: requests, threads: 8);
        var elapsed = clock.Elapsed;

        var byClass = statuses.GroupBy(s => s.Key / 100).OrderBy(g => g.Key).Select(g => $"{g.Key}xx: {g.Sum(s => s.Value):N0}");
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"Fuzz run (`fuzz`, {DateTime.UtcNow:yyyy-MM-dd}): {statuses.Values.Sum():N0} requests generated from the OpenAPI document in {elapsed.TotalSeconds:F0} s ({string.Join(", ", byClass)}; ");
        text.Append(CultureInfo.InvariantCulture, $"statuses {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key} ×{s.Value:N0}"))}); ");
        text.Append(CultureInfo.InvariantCulture, $"{refusedByServer:N0} refused by the web server itself for non-ASCII header bytes; ");
        text.Append(CultureInfo.InvariantCulture, $"{statuses.Where(s => s.Key >= 500).Sum(s => s.Value)} answered 5xx, {violations.Count} broke the rule (5xx, an undocumented status, or an error that is not a problem).");
        output.WriteLine(text);
        foreach (var violation in violations.Take(20))
        {
            output.WriteLine(violation);
        }

        if (writeReadme)
        {
            WriteReadme(Path.Combine(RepositoryRoot(), "README.md"), "fuzz", text.ToString());
        }

        return violations.IsEmpty ? 0 : 1;
    }

    private static bool IsWebServerRefusal(HttpResponseMessage response, string body) =>
        response.StatusCode == System.Net.HttpStatusCode.BadRequest && body.Length == 0 && response.Content.Headers.ContentType is null;

    /// <summary>A private PostgreSQL in a temporary folder, migrated, and the published API on it.</summary>
    private sealed class ReliabilitySetup : IAsyncDisposable
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("claims-reliability-").FullName;

        public ApiHost Api { get; private set; } = null!;

        public string ConnectionString { get; private set; } = "";

        public static async Task<ReliabilitySetup> StartAsync(string database, TextWriter output)
        {
            var setup = new ReliabilitySetup();
            var server = await LocalPostgres.EnsureRunningAsync(Path.Combine(setup._folder, "postgres"));
            setup.ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
            Database.Migrate(new NpgsqlConnectionStringBuilder(setup.ConnectionString) { Pooling = false }.ConnectionString, NullLogger.Instance);

            output.WriteLine($"Publishing the API to {setup._folder} ...");
            var published = Path.Combine(setup._folder, "api");
            await RunProcessAsync("dotnet", ["publish", Path.Combine(RepositoryRoot(), "src", "Claims.Api"), "-c", "Release", "-o", published, "--nologo", "-v", "q"], null);
            setup._published = Path.Combine(published, "Claims.Api.dll");
            setup.Api = await setup.StartApiAsync(new Dictionary<string, string?>());
            return setup;
        }

        private string _published = "";

        /// <summary>Another process of the published API on the same database, with settings of its own.</summary>
        public async Task<ApiHost> StartApiAsync(IReadOnlyDictionary<string, string?> extra)
        {
            var settings = ApiHost.Settings(ConnectionString, Key);
            settings["Database__MigrateOnStartup"] = "false";
            settings["Logging__LogLevel__Default"] = "Warning";
            foreach (var (name, value) in extra)
            {
                settings[name] = value;
            }

            var api = new ApiHost(_published, settings);
            await api.StartAsync(TimeSpan.FromSeconds(60));
            return api;
        }

        public Task StopDatabaseAsync() => LocalPostgres.StopAsync(Path.Combine(_folder, "postgres"));

        public Task StartDatabaseAsync() => LocalPostgres.EnsureRunningAsync(Path.Combine(_folder, "postgres"));

        public async ValueTask DisposeAsync()
        {
            Api?.Dispose();
            try
            {
                await StopDatabaseAsync();
            }
            catch (InvalidOperationException)
            {
            }

            // The data belong to the postgres user; root may remove them.
            using var remove = Process.Start(new ProcessStartInfo("rm", ["-rf", _folder]) { UseShellExecute = false });
            remove?.WaitForExit(TimeSpan.FromSeconds(30));
        }
    }
}
