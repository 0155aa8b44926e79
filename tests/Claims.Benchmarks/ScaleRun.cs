using System.Diagnostics;
using System.Globalization;
using System.Text;
using Claims.Api.Data;
using Npgsql;

namespace Claims.Benchmarks;

/// <summary>
/// The <c>scale</c> verb (issue 17): this build's API as several processes on one database, as
/// docker-compose.yml runs it, measured side by side in alternating slices. Debian's nginx with the
/// repository's configuration in front of two instances against one instance directly (status
/// look-ups, and a mix of nine look-ups to one write), and in front of that one instance alone (the
/// balancer's own cost); reads sent to a streaming replica of the benchmark database against reads
/// from the primary; and the rate limits, counted in PostgreSQL for all instances or in memory,
/// against none.
/// </summary>
public static partial class BenchmarkRun
{
    private static readonly TimeSpan ScaleSlice = TimeSpan.FromSeconds(5);

    public static async Task<int> ScaleAsync(string connectionString, bool quick, bool writeReadme, TextWriter output)
    {
        const string nginx = "/usr/sbin/nginx";
        if (Which("wrk") is null || !File.Exists(nginx))
        {
            output.WriteLine("The benchmark needs wrk and nginx: apt-get install wrk nginx-light.");
            return 2;
        }

        var work = Directory.CreateTempSubdirectory("claims-scale-").FullName;
        // nginx's workers, started by root, run as nobody; and the replica's folder is the postgres user's.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(work, (UnixFileMode)0b111_111_111);
        }

        output.WriteLine($"Publishing this build to {work} ...");
        await PublishApiAsync(work);
        var api = Path.Combine(work, "api");
        var standby = Path.Combine(work, "standby");
        var processes = new List<Process>();
        Process? balancer = null;
        try
        {
            // The replica first: a base backup of the whole benchmark server, streaming from then on.
            output.WriteLine("Making a streaming replica of the benchmark server (pg_basebackup -R) ...");
            var replica = new NpgsqlConnectionStringBuilder(await LocalPostgres.EnsureStandbyRunningAsync(connectionString, standby))
            {
                Database = new NpgsqlConnectionStringBuilder(connectionString).Database,
            }.ConnectionString;

            string Start(params (string Key, string Value)[] settings)
            {
                var url = $"http://127.0.0.1:{FreePort()}";
                processes.Add(StartApi(api, connectionString, url, settings));
                return url;
            }

            var one = Start();
            await WaitReadyAsync(one);
            var two = Start(("Database__MigrateOnStartup", "false"));
            var onReplica = Start(("Database__MigrateOnStartup", "false"), ("ConnectionStrings__ClaimsReplica", replica));
            // A quota no benchmark reaches: what is measured is the counting, not refusals.
            var shared = Start(("Database__MigrateOnStartup", "false"), ("RateLimiting__RequestsPerMinute", "100000000"), ("RateLimiting__WritesPerMinute", "100000000"));
            var local = Start(("Database__MigrateOnStartup", "false"), ("RateLimiting__RequestsPerMinute", "100000000"), ("RateLimiting__WritesPerMinute", "100000000"), ("RateLimiting__Shared", "false"));
            foreach (var url in new[] { two, onReplica, shared, local })
            {
                await WaitReadyAsync(url);
            }

            var (both, single) = (FreePort(), FreePort());
            balancer = await StartBalancerAsync(nginx, work, both, single, one, two);
            var bothUrl = $"http://127.0.0.1:{both}";
            var singleUrl = $"http://127.0.0.1:{single}";

            var data = await PrepareAsync(connectionString, one, work, output, deepPage: 2);
            var mixed = Path.Combine(work, "mixed.lua");
            await File.WriteAllTextAsync(mixed, $$"""
                wrk.headers["X-Api-Key"] = "{{Key}}"
                wrk.headers["Content-Type"] = "application/json"
                local ids = { {{string.Join(",", data.Ids.Select(i => $"\"{i}\""))}} }
                math.randomseed(os.time())
                request = function()
                  if math.random(10) == 1 then
                    local body = string.format('{"statement":"Scale benchmark claim %d: troops were reported near Kursk by a regional outlet.","evidence":[{"sourceId":"{{data.Source}}","stance":"asserts"}]}', math.random(1, 1000000000))
                    return wrk.format("POST", "/claims", nil, body)
                  end
                  return wrk.format("GET", "/claims/" .. ids[math.random(#ids)] .. "/status")
                end
                """);

            foreach (var url in new[] { one, two, onReplica, shared, local })
            {
                await SettleAsync(url, data.StatusScript, quick ? 4 : 8, "status look-ups", output);
            }

            var pairs = quick ? 3 : 6;
            var rows = new List<(string Scenario, string Against, Measure Measured, Measure Ceiling, double Lowest, double Highest, string Target)>();
            async Task Compare(string scenario, string measuredUrl, string against, string ceilingUrl, string script, string target)
            {
                var measured = new List<Measure>();
                var ceiling = new List<Measure>();
                for (var pair = 0; pair < pairs; pair++)
                {
                    // Alternating which goes first, so that neither always follows the other's cache.
                    foreach (var first in pair % 2 == 0 ? new[] { true, false } : [false, true])
                    {
                        (first ? measured : ceiling).Add(await WrkAsync(scenario, first ? measuredUrl : ceilingUrl, script, (int)ScaleSlice.TotalSeconds));
                    }
                }

                var ratios = measured.Zip(ceiling, (m, c) => m.RequestsPerSecond / c.RequestsPerSecond).Order().ToList();
                rows.Add((scenario, against, Combine(measured), Combine(ceiling), ratios[0], ratios[^1], target));
                output.WriteLine($"  {scenario}: {rows[^1].Measured.RequestsPerSecond:N0}/s against {rows[^1].Ceiling.RequestsPerSecond:N0}/s ({against})");
            }

            await Compare("status look-ups, nginx and 2 instances", bothUrl, "1 instance directly", one, data.StatusScript, "≥ 1.6 where the cores allow");
            await Compare("9 look-ups : 1 write, nginx and 2 instances", bothUrl, "1 instance directly", one, mixed, "≥ 1.6 where the cores allow");
            await Compare("status look-ups, nginx and 1 instance", singleUrl, "the same instance directly", one, data.StatusScript, "none: the balancer's cost");
            await Compare("status look-ups from the replica", onReplica, "from the primary", one, data.StatusScript, "none");
            await Compare("GET /claims/{id} from the replica", onReplica, "from the primary", one, data.ClaimScript, "none");
            await Compare("GET /claims?status=in_review from the replica", onReplica, "from the primary", one, data.FirstPageScript, "none");
            await Compare("status look-ups, rate limits shared in PostgreSQL", shared, "no rate limits", one, data.StatusScript, "≥ 0.9");
            await Compare("status look-ups, rate limits in memory", local, "no rate limits", one, data.StatusScript, "none");

            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"Scale (`scale`, {DateTime.UtcNow:yyyy-MM-dd}, {data.Claims:N0} claims, {Environment.ProcessorCount} cores shared by PostgreSQL, its replica, the instances, nginx and wrk; {pairs} pairs of {ScaleSlice.TotalSeconds:N0} s slices at {Connections} connections; load average {LoadAverage()}):");
            text.AppendLine();
            text.AppendLine("| scenario | requests/s | p99 ms | against | requests/s | p99 ms | ratio | target |");
            text.AppendLine("|---|---:|---:|---|---:|---:|---|---|");
            foreach (var (scenario, against, measured, ceiling, lowest, highest, target) in rows)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {scenario} | {measured.RequestsPerSecond:N0} | {measured.P99Ms:F1} | {against} | {ceiling.RequestsPerSecond:N0} | {ceiling.P99Ms:F1} | {measured.RequestsPerSecond / ceiling.RequestsPerSecond:F2} (slices {lowest:F2} to {highest:F2}) | {target}; errors {measured.Errors + ceiling.Errors} |");
            }

            output.WriteLine(text);
            if (writeReadme)
            {
                WriteReadme(Path.Combine(RepositoryRoot(), "README.md"), "scale", text.ToString());
            }

            return 0;
        }
        finally
        {
            balancer?.Kill(entireProcessTree: true);
            foreach (var process in processes)
            {
                process.Kill(entireProcessTree: true);
            }

            // The replica is made afresh each run: without a replication slot an old one may have
            // missed WAL the primary no longer keeps.
            try
            {
                await LocalPostgres.StopAsync(standby);
            }
            catch (InvalidOperationException)
            {
                // It never started.
            }

            await RunProcessAsync("rm", ["-rf", LocalPostgres.DataFolder(standby), work], null);
        }
    }

    /// <summary>
    /// nginx with src/nginx/claims.conf, as docker-compose.yml runs it, on port <paramref name="both"/>
    /// in front of both instances; and the same server block on <paramref name="single"/> in front of
    /// the first alone, to measure what passing through nginx costs.
    /// </summary>
    private static async Task<Process> StartBalancerAsync(string nginx, string work, int both, int single, string first, string second)
    {
        var config = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "src", "nginx", "claims.conf"));
        var pair = config
            .Replace("server api1:8080", $"server {new Uri(first).Authority}", StringComparison.Ordinal)
            .Replace("server api2:8080", $"server {new Uri(second).Authority}", StringComparison.Ordinal)
            .Replace("listen 8080;", $"listen 127.0.0.1:{both};", StringComparison.Ordinal);
        var alone = string.Join('\n', pair.Split('\n').Where(line => !line.Contains(new Uri(second).Authority, StringComparison.Ordinal)))
            .Replace("claims_api", "claims_one", StringComparison.Ordinal)
            .Replace($"listen 127.0.0.1:{both};", $"listen 127.0.0.1:{single};", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(work, "nginx.conf"), $$"""
            daemon off;
            worker_processes auto;
            pid {{work}}/nginx.pid;
            error_log {{work}}/error.log warn;
            events { worker_connections 1024; }
            http {
                access_log off;
                client_body_temp_path {{work}}/body;
                proxy_temp_path {{work}}/proxy;
                fastcgi_temp_path {{work}}/fastcgi;
                uwsgi_temp_path {{work}}/uwsgi;
                scgi_temp_path {{work}}/scgi;
            {{pair}}
            {{alone}}
            }
            """);
        var process = Process.Start(new ProcessStartInfo(nginx, ["-c", Path.Combine(work, "nginx.conf"), "-p", work]) { RedirectStandardError = true })!;
        await WaitReadyAsync($"http://127.0.0.1:{both}");
        await WaitReadyAsync($"http://127.0.0.1:{single}");
        return process;
    }
}
