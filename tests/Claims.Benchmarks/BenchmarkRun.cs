using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Claims.Api.Claims;
using Npgsql;

namespace Claims.Benchmarks;

/// <summary>
/// Measures the published API with wrk over loopback, next to two ceilings taken in the same run:
/// the database's (pgbench running the same SQL) and the web server's (a bare endpoint of the same
/// answer size). Both share the machine's cores, so a scenario's combined ceiling is 1/(1/H + 1/D).
/// </summary>
public static partial class BenchmarkRun
{
    private const int Connections = 64;
    private const string Status = "GET /claims/{id}/status";
    private const string ClaimWithEvidence = "GET /claims/{id} with evidence";
    private const string FirstPage = "GET /claims?status=in_review (first page)";
    private const string DeepPage = "GET /claims?status=in_review (page 1,000)";
    private const string CommonTerm = "GET /claims?q= (common term, by relevance)";
    private const string CommonTermAt8 = "GET /claims?q= (common term, by relevance, 8 connections)";
    private const string CommonTermNewest = "GET /claims?q= (common term, newest first)";
    private const string RareTerm = "GET /claims?q= (rare term)";
    private const string Similar16 = "GET /claims/similar (16 connections)";
    private const string Similar = "GET /claims/similar (64 connections)";
    private const string Post = "POST /claims with 2 evidence";
    private const string Key = "benchmark-admin-key-0000000000000000";
    private const string PgbenchStatement = "Benchmark claim: North Korean troops were seen near Kursk, according to local reports.";

    public sealed record Measure(string Name, double RequestsPerSecond, double P50Ms, double P99Ms, int Errors);

    public static async Task<int> RunAsync(string connectionString, bool quick, bool writeReadme, TextWriter output)
    {
        if (Which("wrk") is null || Which("pgbench") is null)
        {
            output.WriteLine("The benchmark needs wrk and pgbench: apt-get install wrk postgresql-client (pgbench comes with the PostgreSQL programs).");
            return 2;
        }

        var duration = quick ? 5 : 20;
        var root = RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("claims-bench-").FullName;
        output.WriteLine($"Publishing the API to {work} ...");
        await PublishApiAsync(work);

        var port = FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        using var api = StartApi(Path.Combine(work, "api"), connectionString, baseUrl);
        try
        {
            await WaitReadyAsync(baseUrl);
            await FileUnfiledAsync(connectionString, output);
            var data = await PrepareAsync(connectionString, baseUrl, work, output);
            output.WriteLine($"Database: {data.Claims:N0} claims. Warming up...");

            // Every scenario is warmed once after the status look-up has settled (PostgreSQL's
            // buffer cache needs that traffic too) before any is measured.
            await SettleAsync(baseUrl, data.StatusScript, quick ? 6 : 16, "status look-ups", output);
            foreach (var script in new[] { data.StatusScript, data.ClaimScript, data.FirstPageScript, data.DeepPageScript,
                data.CommonSearchScript, data.CommonNewestScript, data.RareSearchScript, data.SimilarScript, data.PostScript, data.StatusScript })
            {
                await WrkAsync("warm-up", baseUrl, script, quick ? 3 : 10);
            }

            var results = new List<Measure>
            {
                await WrkAsync(Status, baseUrl, data.StatusScript, duration),
                await WrkAsync(ClaimWithEvidence, baseUrl, data.ClaimScript, duration),
                await WrkAsync(FirstPage, baseUrl, data.FirstPageScript, duration),
                await WrkAsync(DeepPage, baseUrl, data.DeepPageScript, duration),
                await WrkAsync(CommonTerm, baseUrl, data.CommonSearchScript, duration),
                // At 64 connections on two cores latency is the queue's; at 8 it is the search's.
                await WrkAsync(CommonTermAt8, baseUrl, data.CommonSearchScript, duration, connections: 8),
                await WrkAsync(CommonTermNewest, baseUrl, data.CommonNewestScript, duration),
                await WrkAsync(RareTerm, baseUrl, data.RareSearchScript, duration),
                await WrkAsync(Similar16, baseUrl, data.SimilarScript, duration, connections: 16),
                await WrkAsync(Similar, baseUrl, data.SimilarScript, duration),
                await WrkAsync(Post, baseUrl, data.PostScript, duration),
            };
            var peakMb = PeakRssMb(api.Id);
            output.WriteLine("POST /claims with and without filing for the near-duplicate look-up...");
            var postCost = await ComparePostCostAsync(Path.Combine(work, "api"), connectionString, baseUrl, data.PostScript, quick, output);
            output.WriteLine("Reads through a desk session and through its key...");
            var sessionCosts = await CompareSessionsAsync(baseUrl, await PrepareDeskAsync(connectionString, baseUrl, data.Ids, work, output), quick, output);
            output.WriteLine("Worst-case bodies...");
            var hostile = await HostileAsync(api.Id, baseUrl, data.Claim, data.Source, data.StatusScript, duration, quick);

            output.WriteLine("Measuring the ceilings...");
            var dStatus = await PgbenchBestAsync(connectionString, data.StatusPgbench, duration);
            var dPost = await PgbenchBestAsync(connectionString, data.PostPgbench, duration);
            var h = await BareEndpointAsync(data.StatusAnswer, duration);

            var report = Report(results, postCost, sessionCosts, dStatus, dPost, h, peakMb, quick, await DescribeDatabaseAsync(connectionString, data.Claims))
                + Environment.NewLine + HostileReport(hostile, results.Single(m => m.Name == Status));
            output.WriteLine(report);
            if (writeReadme)
            {
                WriteReadme(Path.Combine(root, "README.md"), "performance", report);
                output.WriteLine("README.md's Performance section updated.");
            }

            return 0;
        }
        finally
        {
            api.Kill(entireProcessTree: true);
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand("DROP TABLE IF EXISTS bench_ids, bench_sources", connection);
            await drop.ExecuteNonQueryAsync();
            await ForgetDeskKeyAsync(connectionString);
        }
    }

    private sealed record Prepared(
        long Claims, IReadOnlyList<Guid> Ids, Guid Claim, Guid Source, string StatusAnswer,
        string StatusScript, string ClaimScript, string FirstPageScript, string DeepPageScript,
        string CommonSearchScript, string CommonNewestScript, string RareSearchScript, string SimilarScript, string PostScript,
        string StatusPgbench, string PostPgbench);

    /// <summary>Samples ids, collects the deep-page cursor, and writes the wrk and pgbench scripts.</summary>
    private static async Task<Prepared> PrepareAsync(string connectionString, string baseUrl, string work, TextWriter output, int deepPage = 1000)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        async Task Execute(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
            await command.ExecuteNonQueryAsync();
        }

        // Unlogged helper tables give pgbench the same random ids the API gets.
        await Execute("""
            DROP TABLE IF EXISTS bench_ids, bench_sources;
            CREATE UNLOGGED TABLE bench_ids AS SELECT row_number() OVER () AS n, id FROM (SELECT id FROM claims ORDER BY random() LIMIT 10000) s;
            ALTER TABLE bench_ids ADD PRIMARY KEY (n);
            CREATE UNLOGGED TABLE bench_sources AS SELECT row_number() OVER () AS n, id FROM (SELECT id FROM sources ORDER BY random() LIMIT 1000) s;
            ALTER TABLE bench_sources ADD PRIMARY KEY (n);
            ANALYZE bench_ids; ANALYZE bench_sources;
            """);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM claims", connection);
        var claims = (long)(await count.ExecuteScalarAsync())!;
        var ids = await ReadIdsAsync(connection, "SELECT id FROM bench_ids ORDER BY n");
        var sources = await ReadIdsAsync(connection, "SELECT id FROM bench_sources ORDER BY n");

        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        http.DefaultRequestHeaders.Add("X-Api-Key", Key);
        var statusAnswer = await http.GetStringAsync($"/claims/{ids[0]}/status");
        string? cursor = null;
        for (var page = 1; page < deepPage; page++)
        {
            var body = await http.GetFromJsonAsync<JsonElement>($"/claims?status=in_review&limit=50{(cursor is null ? "" : "&cursor=" + cursor)}");
            cursor = body.GetProperty("nextCursor").GetString();
            if (cursor is null)
            {
                throw new InvalidOperationException($"Only {page} pages of in_review claims: generate more claims for the deep-page scenario.");
            }
        }

        var idList = string.Join(",", ids.Select(i => $"\"{i}\""));
        var sourceList = string.Join(",", sources.Select(i => $"\"{i}\""));
        string Script(string name, string body)
        {
            var path = Path.Combine(work, name + ".lua");
            File.WriteAllText(path, $$"""
                wrk.headers["X-Api-Key"] = "{{Key}}"
                local ids = { {{idList}} }
                local sources = { {{sourceList}} }
                math.randomseed(os.time())
                {{body}}
                """);
            return path;
        }

        string Fixed(string name, string path) => Script(name, $$"""request = function() return wrk.format("GET", "{{path}}") end""");

        var post = Script("post", """
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/json"
            request = function()
              local body = string.format('{"statement":"Benchmark claim %d: North Korean troops were seen near Kursk, according to local reports.","language":"en","tags":["north-korea","kursk"],"firstReportedOn":"2024-10-23","evidence":[{"sourceId":"%s","stance":"asserts","quote":"there is evidence","credibility":2},{"sourceId":"%s","stance":"unable_to_verify"}]}', math.random(1, 1000000000), sources[math.random(#sources)], sources[math.random(#sources)])
              return wrk.format(nil, "/claims", nil, body)
            end
            """);

        var statusPgbench = Path.Combine(work, "status.sql");
        File.WriteAllText(statusPgbench, $$"""
            \set n random(1, {{ids.Count}})
            SELECT c.id AS claim_id, c.status, c.status_note, c.updated_at, c.version, n.*, c.origin_counts[1], c.origin_counts[2], c.origin_counts[3], c.origin_counts[4], c.origin_counts[5] FROM claims c CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE e.stance = 'asserts')::int AS asserts, count(*) FILTER (WHERE e.stance = 'supports')::int AS supports, count(*) FILTER (WHERE e.stance = 'refutes')::int AS refutes, count(*) FILTER (WHERE e.stance = 'unable_to_verify')::int AS unable_to_verify, count(*) FILTER (WHERE e.stance = 'mentions')::int AS mentions FROM evidence e WHERE e.claim_id = c.id) n WHERE c.id = (SELECT id FROM bench_ids WHERE n = :n::bigint);
            """);
        var postPgbench = Path.Combine(work, "post.sql");
        File.WriteAllText(postPgbench, $$"""
            \set a random(1, {{sources.Count}})
            \set b random(1, {{sources.Count}})
            BEGIN;
            SELECT id FROM sources WHERE id = ANY(ARRAY[(SELECT id FROM bench_sources WHERE n = :a::bigint), (SELECT id FROM bench_sources WHERE n = :b::bigint)]);
            INSERT INTO claims (id, statement, summary, language, tags, first_reported_on, created_by, similarity_keys) VALUES (gen_random_uuid(), '{{PgbenchStatement}}', NULL, 'en', '{north-korea,kursk}', '2024-10-23', 'benchmark', '{{{string.Join(",", SimilarityKeys.For(PgbenchStatement))}}}') RETURNING id \gset
            INSERT INTO claim_status_changes (id, claim_id, from_status, to_status, note, changed_by) VALUES (gen_random_uuid(), :id, NULL, 'unverified', 'Logged.', 'benchmark');
            {{Claims.Api.Provenance.Origins.CountingLock}}
            INSERT INTO evidence (id, claim_id, source_id, stance, quote, credibility, created_by) SELECT gen_random_uuid(), :id, s.id, x.stance, x.quote, x.credibility, 'benchmark' FROM (VALUES (:a::bigint, 'asserts', 'there is evidence', 2::smallint), (:b::bigint, 'unable_to_verify', NULL, 6::smallint)) x (n, stance, quote, credibility) JOIN bench_sources s ON s.n = x.n;
            UPDATE claims SET origin_counts = {{Claims.Api.Provenance.Origins.CountsOf(":id").ReplaceLineEndings(" ")}} WHERE id = :id;
            SELECT id, statement, summary, language, tags, first_reported_on, status, status_note, created_at, updated_at, version, created_by FROM claims WHERE id = :id;
            SELECT e.id, e.claim_id, e.source_id, s.name, s.kind, s.reliability, e.stance, e.quote, e.url, e.published_at, e.note, e.credibility, e.created_at, e.created_by FROM evidence e JOIN sources s ON s.id = e.source_id WHERE e.claim_id = :id ORDER BY e.created_at, e.id;
            COMMIT;
            """);

        return new Prepared(
            claims, ids, ids[0], sources[0], statusAnswer,
            Script("status", """request = function() return wrk.format("GET", "/claims/" .. ids[math.random(#ids)] .. "/status") end"""),
            Script("claim", """request = function() return wrk.format("GET", "/claims/" .. ids[math.random(#ids)]) end"""),
            Fixed("first-page", "/claims?status=in_review&limit=50"),
            Fixed("deep-page", $"/claims?status=in_review&limit=50&cursor={cursor}"),
            Fixed("common", "/claims?q=troops"),
            Fixed("common-newest", "/claims?q=troops&sort=-updatedAt"),
            Fixed("rare", $"/claims?q={Uri.EscapeDataString(Words.RareTerm)}"),
            Script("similar", await SimilarProbesAsync(connection, output)),
            post, statusPgbench, postPgbench);
    }

    private static async Task<List<Guid>> ReadIdsAsync(NpgsqlConnection connection, string sql)
    {
        var ids = new List<Guid>();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    private static async Task<Measure> WrkAsync(string name, string baseUrl, string script, int seconds, int connections = Connections)
    {
        // wrk's own timeout (2 s by default) would drop the slowest requests from the percentiles;
        // above the API's 5 s statement timeout every request ends with an answer.
        var text = await RunProcessAsync("wrk", ["-t2", $"-c{connections}", $"-d{seconds}s", "--timeout", "10s", "--latency", "-s", script, baseUrl], null);
        var rps = double.Parse(RequestsPerSecond().Match(text).Groups[1].Value, CultureInfo.InvariantCulture);
        var errors = NonSuccess().Match(text) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        if (SocketErrors().Match(text) is { Success: true } socket)
        {
            // Connect, read, write and timeout errors are failed requests too.
            errors += Enumerable.Range(1, 4).Sum(g => int.Parse(socket.Groups[g].Value, CultureInfo.InvariantCulture));
        }

        return new Measure(name, rps, Percentile(text, "50"), Percentile(text, "99"), errors);
    }

    private static double Percentile(string wrk, string percent)
    {
        var match = Regex.Match(wrk, $@"^\s*{percent}(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!match.Success)
        {
            // No request completed within wrk's timeout: there is no latency to report.
            return double.NaN;
        }

        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    /// <summary>The best pgbench throughput at 8, 16 and 64 clients: two cores do best with few connections.</summary>
    private static async Task<double> PgbenchBestAsync(string connectionString, string script, int seconds)
    {
        var cs = new NpgsqlConnectionStringBuilder(connectionString);
        var environment = new Dictionary<string, string?> { ["PGPASSWORD"] = cs.Password };
        var best = 0.0;
        foreach (var clients in new[] { 8, 16, 64 })
        {
            var text = await RunProcessAsync("pgbench",
                ["-n", "-M", "prepared", "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", "2", "-T", seconds.ToString(CultureInfo.InvariantCulture),
                 "-f", script, "-h", cs.Host ?? "127.0.0.1", "-p", cs.Port.ToString(CultureInfo.InvariantCulture), "-U", cs.Username ?? "postgres", cs.Database ?? "postgres"],
                environment);
            best = Math.Max(best, double.Parse(Tps().Match(text).Groups[1].Value, CultureInfo.InvariantCulture));
        }

        return best;
    }

    /// <summary>The web server's ceiling: Kestrel answering a constant JSON of the status answer's size.</summary>
    private static async Task<double> BareEndpointAsync(string answer, int seconds)
    {
        var port = FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using var app = builder.Build();
        var bytes = Encoding.UTF8.GetBytes(answer);
        app.MapGet("/bare", (HttpContext context) =>
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            return context.Response.Body.WriteAsync(bytes).AsTask();
        });
        await app.StartAsync();
        var script = Path.Combine(Path.GetTempPath(), $"bare-{port}.lua");
        await File.WriteAllTextAsync(script, """request = function() return wrk.format("GET", "/bare") end""");
        return (await WrkAsync("bare", $"http://127.0.0.1:{port}", script, seconds)).RequestsPerSecond;
    }

    private static string Report(List<Measure> results, PostCost postCost, List<(string Name, SessionCost Cost)> sessionCosts, double dStatus, double dPost, double h, double peakMb, bool quick, string database)
    {
        Measure Named(string name) => results.Single(m => m.Name == name);
        var status = Named(Status);
        var ceiling = 1 / (1 / h + 1 / dStatus);
        // A latency target with no latency measured (nothing succeeded) is not met either.
        static string Verdict(bool met, Measure m) => met && m.Errors == 0 && m.P99Ms > 0 ? "met" : "**not met**";

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {CpuModel()}; {database}; {(quick ? "quick run (5 s per scenario)" : "20 s per scenario")} after a warm-up, wrk at {Connections} connections over loopback unless the scenario says otherwise.");
        text.AppendLine();
        text.AppendLine("| scenario | requests/s | p50 ms | p99 ms | non-2xx | ratio | target |");
        text.AppendLine("|---|---:|---:|---:|---:|---|---|");
        foreach (var m in results)
        {
            var (ratio, target) = m.Name switch
            {
                Status => ($"{m.RequestsPerSecond / ceiling:F2} of combined ceiling {ceiling:N0}/s", $"≥ 0.70: {Verdict(m.RequestsPerSecond / ceiling >= 0.70, m)}"),
                ClaimWithEvidence => ($"{m.RequestsPerSecond / status.RequestsPerSecond:F2} of the status look-up", $"≥ 0.50: {Verdict(m.RequestsPerSecond / status.RequestsPerSecond >= 0.50, m)}"),
                DeepPage => ($"p99 {m.P99Ms / Named(FirstPage).P99Ms:F2} x the first page's", $"≤ 1.5: {Verdict(m.P99Ms / Named(FirstPage).P99Ms <= 1.5, m)}"),
                CommonTerm => ($"{m.RequestsPerSecond / Named(FirstPage).RequestsPerSecond:F2} of the first page", $"≥ 0.25: {Verdict(m.RequestsPerSecond / Named(FirstPage).RequestsPerSecond >= 0.25, m)}"),
                CommonTermAt8 => ("", $"p99 < 50 ms: {Verdict(m.P99Ms < 50, m)}"),
                CommonTermNewest => ($"{m.RequestsPerSecond / Named(FirstPage).RequestsPerSecond:F2} of the first page", $"≥ 0.50: {Verdict(m.RequestsPerSecond / Named(FirstPage).RequestsPerSecond >= 0.50, m)}"),
                Similar16 => ("", $"p99 < 100 ms: {Verdict(m.P99Ms < 100, m)}"),
                Similar => ($"{m.RequestsPerSecond / status.RequestsPerSecond:F2} of the status look-up", $"≥ 0.15, no non-2xx: {Verdict(m.RequestsPerSecond / status.RequestsPerSecond >= 0.15, m)}"),
                Post => ($"{m.RequestsPerSecond / dPost:F2} of pgbench {dPost:N0}/s", $"≥ 0.70: {Verdict(m.RequestsPerSecond / dPost >= 0.70, m)}"),
                _ => ("", ""),
            };
            text.AppendLine(CultureInfo.InvariantCulture, $"| {m.Name} | {m.RequestsPerSecond:N0} | {Ms(m.P50Ms)} | {Ms(m.P99Ms)} | {m.Errors} | {ratio} | {target} |");
        }

        var filed = postCost.Filed;
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| {PostCostName} | {filed.RequestsPerSecond:N0} | {Ms(filed.P50Ms)} | {Ms(filed.P99Ms)} | {postCost.Errors} | {postCost.Ratio:F2} of {postCost.Unfiled.RequestsPerSecond:N0}/s without filing (slices {postCost.LowestSlice:F2} to {postCost.HighestSlice:F2}) | ≥ 0.90: {Verdict(postCost.Ratio >= 0.90, filed with { Errors = postCost.Errors })} |");
        foreach (var (name, cost) in sessionCosts)
        {
            text.AppendLine(SessionRow(name, cost));
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Ceilings: database D (pgbench, best of 8/16/64 clients) {dStatus:N0}/s for the status SQL and {dPost:N0}/s for the POST /claims SQL; web server H (bare endpoint) {h:N0}/s; combined 1/(1/H + 1/D) = {ceiling:N0}/s. API peak RSS {peakMb:N0} MB (target < 300 MB: {(peakMb < 300 ? "met" : "**not met**")}).");
        return text.ToString();
    }

    /// <summary>The server and the data measured: shared_buffers decides whether a million claims stay in memory.</summary>
    private static async Task<string> DescribeDatabaseAsync(string connectionString, long claims)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT current_setting('server_version'), current_setting('shared_buffers'), pg_size_pretty(pg_database_size(current_database()))", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return $"PostgreSQL {reader.GetString(0)} (shared_buffers {reader.GetString(1)}) with {claims:N0} claims, {reader.GetString(2)}";
    }

    // wrk reports no latency (NaN here) or zero when no request succeeded.
    private static string Ms(double value) => double.IsNaN(value) || value <= 0 ? "–" : value.ToString("F1", CultureInfo.InvariantCulture);

    /// <summary>Replaces the README's block between <c>&lt;!-- section:start --&gt;</c> and its end marker.</summary>
    internal static void WriteReadme(string readme, string section, string report)
    {
        var start = $"<!-- {section}:start -->";
        var end = $"<!-- {section}:end -->";
        var text = File.ReadAllText(readme);
        if (!text.Contains(start, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"README.md has no {start} marker to write the figures after.");
        }

        var block = $"{start}\n{report.TrimEnd()}\n{end}";
        text = text[..text.IndexOf(start, StringComparison.Ordinal)] + block + text[(text.IndexOf(end, StringComparison.Ordinal) + end.Length)..];
        File.WriteAllText(readme, text);
    }

    private static Process StartApi(string folder, string connectionString, string url, params (string Key, string Value)[] settings)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(folder, "Claims.Api.dll"));
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = url;
        start.Environment["ConnectionStrings__Claims"] = connectionString;
        start.Environment["Auth__BootstrapAdminKey"] = Key;
        start.Environment["RateLimiting__RequestsPerMinute"] = "0";
        start.Environment["RateLimiting__WritesPerMinute"] = "0";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine("api: " + e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static Task PublishApiAsync(string work) =>
        RunProcessAsync("dotnet", ["publish", Path.Combine(RepositoryRoot(), "src", "Claims.Api"), "-c", "Release", "-o", Path.Combine(work, "api"), "--nologo", "-v", "q"], null);

    /// <summary>
    /// Drives a freshly started API until two 5 s rounds in a row agree within 3%, at most
    /// <paramref name="rounds"/>. The JIT reaches its final code only after minutes of traffic on
    /// two busy cores: the status look-up ran at 2,500/s for its first 20 s and at 7,000/s a minute later.
    /// </summary>
    private static async Task SettleAsync(string baseUrl, string script, int rounds, string what, TextWriter output)
    {
        var previous = 0.0;
        for (var round = 0; round < rounds; round++)
        {
            var rate = (await WrkAsync("warm-up", baseUrl, script, 5)).RequestsPerSecond;
            output.WriteLine($"  warm-up round {round + 1}: {rate:N0} {what}/s");
            if (Math.Abs(rate - previous) <= 0.03 * rate)
            {
                return;
            }

            previous = rate;
        }
    }

    private static async Task WaitReadyAsync(string baseUrl)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(2) };
        for (var attempt = 0; attempt < 120; attempt++)
        {
            try
            {
                if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(500);
        }

        throw new InvalidOperationException("The API did not become ready within a minute.");
    }

    private static async Task<string> RunProcessAsync(string program, string[] arguments, Dictionary<string, string?>? environment)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? [])
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await output}{await errors}");
        }

        return await output + await errors;
    }

    private static double PeakRssMb(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    private static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Claims.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Run the benchmark from inside the repository: it publishes src/Claims.Api.");
    }

    private static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex NonSuccess();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();

    [GeneratedRegex(@"tps = ([\d.]+) \(without initial connection time\)")]
    private static partial Regex Tps();
}
