using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Claims.Api.Http;
using Npgsql;

namespace Claims.Benchmarks;

/// <summary>
/// Reads through the desk's session cookie (issue 14) next to the same reads through an API key.
/// The key is checked in the instance's memory (KeyCache); the cookie costs a database look-up on
/// every request (DeskSessionStore.FindAsync), uncached on purpose so that sign-out and revocation
/// take effect at once on every instance. This measures what that choice costs a read.
/// </summary>
public static partial class BenchmarkRun
{
    private const string SessionStatus = "GET /claims/{id}/status, desk session vs key (alternating slices)";
    private const string SessionClaim = "GET /claims/{id} with evidence, desk session vs key (alternating slices)";
    private const string DeskKeyName = "benchmark-desk";

    /// <summary>
    /// Sessions signed in before the measured one: a busy newsroom's day of sign-ins, so that the
    /// look-up walks an index of the depth it will have rather than a table of one row.
    /// </summary>
    private const int OtherSessions = 2000;

    private static readonly TimeSpan SessionSlice = TimeSpan.FromSeconds(5);

    private sealed record SessionCost(Measure Session, Measure Key, double LowestSlice, double HighestSlice)
    {
        public double Ratio => Session.RequestsPerSecond / Key.RequestsPerSecond;

        public int Errors => Session.Errors + Key.Errors;
    }

    /// <summary>The two reads, each as a wrk script with the key and with the session cookie.</summary>
    private sealed record DeskScripts(string StatusByKey, string StatusBySession, string ClaimByKey, string ClaimBySession);

    /// <summary>
    /// The <c>desk</c> verb: only this comparison, on whatever the database holds (<c>run</c> needs a
    /// database large enough for its deep page). The API is published, started and warmed up as
    /// <c>run</c> does it.
    /// </summary>
    public static async Task<int> DeskAsync(string connectionString, bool quick, bool writeReadme, TextWriter output)
    {
        if (Which("wrk") is null)
        {
            output.WriteLine("The benchmark needs wrk: apt-get install wrk.");
            return 2;
        }

        var work = Directory.CreateTempSubdirectory("claims-desk-").FullName;
        output.WriteLine($"Publishing the API to {work} ...");
        await PublishApiAsync(work);
        var baseUrl = $"http://127.0.0.1:{FreePort()}";
        var loadBefore = LoadAverage();
        using var api = StartApi(Path.Combine(work, "api"), connectionString, baseUrl);
        try
        {
            await WaitReadyAsync(baseUrl);
            List<Guid> ids;
            long claims;
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync();
                ids = await ReadIdsAsync(connection, "SELECT id FROM claims ORDER BY random() LIMIT 10000");
                await using var count = new NpgsqlCommand("SELECT count(*) FROM claims", connection);
                claims = (long)(await count.ExecuteScalarAsync())!;
            }

            var scripts = await PrepareDeskAsync(connectionString, baseUrl, ids, work, output);
            output.WriteLine($"Database: {claims:N0} claims. Warming up...");
            await SettleAsync(baseUrl, scripts.StatusByKey, quick ? 6 : 16, "status look-ups by the key", output);
            var costs = await CompareSessionsAsync(baseUrl, scripts, quick, output);

            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"Desk session vs key (`desk{(quick ? " --quick" : "")}`, {DateTime.UtcNow:yyyy-MM-dd}): {Environment.ProcessorCount} cores, {CpuModel()}, load average {loadBefore} before the run and {LoadAverage()} after it; " +
                $"{await DescribeDatabaseAsync(connectionString, claims)}; {OtherSessions:N0} other sessions in desk_sessions; wrk at {Connections} connections over loopback.");
            text.AppendLine();
            text.AppendLine("| scenario | requests/s | p50 ms | p99 ms | non-2xx | ratio | target |");
            text.AppendLine("|---|---:|---:|---:|---:|---|---|");
            foreach (var (name, cost) in costs)
            {
                text.AppendLine(SessionRow(name, cost));
            }

            output.WriteLine(text);
            if (writeReadme)
            {
                WriteReadme(Path.Combine(RepositoryRoot(), "README.md"), "desk", text.ToString());
                output.WriteLine("README.md's desk figures updated.");
            }

            return costs.All(c => c.Cost.Errors == 0) ? 0 : 1;
        }
        finally
        {
            api.Kill(entireProcessTree: true);
            await api.WaitForExitAsync();
            await ForgetDeskKeyAsync(connectionString);
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// Mints an editor key (a journalist's), signs it in <see cref="OtherSessions"/> + 1 times, and
    /// writes the scripts: the same random ids, by the key and by the last session. One session
    /// serves every connection, as one journalist's page in many tabs would.
    /// </summary>
    private static async Task<DeskScripts> PrepareDeskAsync(string connectionString, string baseUrl, IReadOnlyList<Guid> ids, string work, TextWriter output)
    {
        // A run that was killed left its key and sessions behind.
        await ForgetDeskKeyAsync(connectionString);
        using var admin = new HttpClient { BaseAddress = new Uri(baseUrl) };
        admin.DefaultRequestHeaders.Add(Caller.KeyHeader, Key);
        var minted = await admin.PostAsJsonAsync("/admin/keys", new { name = DeskKeyName, role = "editor" });
        minted.EnsureSuccessStatusCode();
        var key = (await minted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;

        output.WriteLine($"Signing in {OtherSessions + 1:N0} desk sessions...");
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = new Uri(baseUrl) };
        async Task<string> SignInAsync()
        {
            using var response = await http.PostAsJsonAsync("/desk/session", new { apiKey = key });
            response.EnsureSuccessStatusCode();
            var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(Caller.SessionCookie + "=", StringComparison.Ordinal));
            return cookie[..cookie.IndexOf(';', StringComparison.Ordinal)];
        }

        await Parallel.ForEachAsync(Enumerable.Range(0, OtherSessions), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, _) => await SignInAsync());
        var session = await SignInAsync();

        // The cookie must be what authenticates, as the key it signed in with: else the comparison
        // would measure a refusal or an anonymous read.
        using var check = new HttpRequestMessage(HttpMethod.Get, "/desk/session");
        check.Headers.Add("Cookie", session);
        using var answer = await http.SendAsync(check);
        answer.EnsureSuccessStatusCode();
        var name = (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString();
        if (name != DeskKeyName)
        {
            throw new InvalidOperationException($"The desk session stands for {name}, not {DeskKeyName}.");
        }

        var idList = string.Join(",", ids.Select(i => $"\"{i}\""));
        string Script(string name, string header, string value, string path)
        {
            var file = Path.Combine(work, name + ".lua");
            File.WriteAllText(file, $$"""
                wrk.headers["{{header}}"] = "{{value}}"
                local ids = { {{idList}} }
                math.randomseed(os.time())
                request = function() return wrk.format("GET", "/claims/" .. ids[math.random(#ids)] .. "{{path}}") end
                """);
            return file;
        }

        return new DeskScripts(
            Script("status-by-key", Caller.KeyHeader, key, "/status"),
            Script("status-by-session", "Cookie", session, "/status"),
            Script("claim-by-key", Caller.KeyHeader, key, ""),
            Script("claim-by-session", "Cookie", session, ""));
    }

    /// <summary>
    /// Each read by the session and by the key on the same API, wrk switching between the two
    /// every few seconds (session, key, key, session, ...; 3 pairs with --quick, 6 without), so
    /// that both see the same drift in a shared machine's load, as POST filed vs not does.
    /// </summary>
    private static async Task<List<(string Name, SessionCost Cost)>> CompareSessionsAsync(string baseUrl, DeskScripts scripts, bool quick, TextWriter output)
    {
        var seconds = (int)SessionSlice.TotalSeconds;
        var costs = new List<(string, SessionCost)>();
        foreach (var (name, bySession, byKey) in new[] { (SessionStatus, scripts.StatusBySession, scripts.StatusByKey), (SessionClaim, scripts.ClaimBySession, scripts.ClaimByKey) })
        {
            output.WriteLine($"{name}...");
            // The session's code path runs here for the first time: it is warmed as each scenario of run is.
            await WrkAsync("warm-up", baseUrl, bySession, seconds);
            await WrkAsync("warm-up", baseUrl, byKey, seconds);
            var session = new List<Measure>();
            var key = new List<Measure>();
            for (var pair = 0; pair < (quick ? 3 : 6); pair++)
            {
                foreach (var withSession in pair % 2 == 0 ? new[] { true, false } : [false, true])
                {
                    (withSession ? session : key).Add(await WrkAsync(name, baseUrl, withSession ? bySession : byKey, seconds));
                }

                output.WriteLine($"  pair {pair + 1}: {session[^1].RequestsPerSecond:N0}/s by the session, {key[^1].RequestsPerSecond:N0}/s by the key");
            }

            var ratios = session.Zip(key, (s, k) => s.RequestsPerSecond / k.RequestsPerSecond).Order().ToList();
            costs.Add((name, new SessionCost(Combine(session), Combine(key), ratios[0], ratios[^1])));
        }

        return costs;
    }

    private static string SessionRow(string name, SessionCost cost)
    {
        var (session, key) = (cost.Session, cost.Key);
        var met = cost.Ratio >= 0.80 && cost.Errors == 0 && session.P99Ms > 0;
        return string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {session.RequestsPerSecond:N0} | {Ms(session.P50Ms)} | {Ms(session.P99Ms)} | {cost.Errors} | " +
            $"{cost.Ratio:F2} of {key.RequestsPerSecond:N0}/s by the key (p50 {Ms(key.P50Ms)}, p99 {Ms(key.P99Ms)} ms; slices {cost.LowestSlice:F2} to {cost.HighestSlice:F2}) | " +
            $"≥ 0.80: {(met ? "met" : "**not met**")} |");
    }

    /// <summary>Deleting the key ends its sessions too (ON DELETE CASCADE).</summary>
    private static async Task ForgetDeskKeyAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var delete = new NpgsqlCommand("DELETE FROM api_keys WHERE name = $1", connection);
        delete.Parameters.AddWithValue(DeskKeyName);
        await delete.ExecuteNonQueryAsync();
    }

    /// <summary>The machine's 1, 5 and 15 minute load averages: on a shared machine, how busy it was besides the benchmark.</summary>
    private static string LoadAverage() => string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
