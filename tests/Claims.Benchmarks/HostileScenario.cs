using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Claims.Hostile;

namespace Claims.Benchmarks;

/// <summary>
/// Worst-case bodies of every writable endpoint: what each costs the API in CPU next to a normal
/// POST /claims, and what eight clients sending them do to normal traffic and to the API's memory.
/// </summary>
public static partial class BenchmarkRun
{
    private const int Attackers = 8;

    public sealed record HostileCost(string Name, int Requests, double CpuMsPerRequest, int Status, int LargestAnswer);

    public sealed record HostileResult(
        double NormalPostCpuMs, IReadOnlyList<HostileCost> Costs, Measure StatusUnderAttack, int AttackRequests, int AttackFailures, double PeakRssMb);

    private static async Task<HostileResult> HostileAsync(int apiPid, string baseUrl, Guid claim, Guid source, string statusScript, int seconds, bool quick)
    {
        var perKind = TimeSpan.FromSeconds(quick ? 1 : 3);
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Api-Key", Key);

        // A normal write, for scale: the same POST as the benchmark's POST scenario.
        var normal = await CostAsync(apiPid, perKind, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/claims")
            {
                Content = JsonContent.Create(new
                {
                    statement = $"Benchmark claim {Guid.NewGuid():N}: North Korean troops were seen near Kursk, according to local reports.",
                    language = "en",
                    tags = new[] { "north-korea", "kursk" },
                    firstReportedOn = "2024-10-23",
                    evidence = new object[] { new { sourceId = source, stance = "asserts", quote = "there is evidence", credibility = 2 }, new { sourceId = source, stance = "unable_to_verify" } },
                }),
            };
            return request;
        }, http);

        var hostile = WorstCaseBodies.All(claim, source);
        var costs = new List<HostileCost>();
        foreach (var kind in hostile)
        {
            var cost = await CostAsync(apiPid, perKind, kind.ToMessage, http);
            costs.Add(new HostileCost(kind.Name, cost.Requests, cost.CpuMs, cost.Status, cost.LargestAnswer));
        }

        // Eight clients cycle through every worst case while wrk measures normal traffic.
        ResetPeakRss(apiPid);
        using var stop = new CancellationTokenSource();
        var sent = 0;
        var failures = 0;
        var attackers = Enumerable.Range(0, Attackers).Select(a => Task.Run(async () =>
        {
            for (var i = a; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    using var response = await http.SendAsync(hostile[i % hostile.Count].ToMessage(), stop.Token);
                    await response.Content.ReadAsByteArrayAsync(stop.Token);
                    Interlocked.Increment(ref sent);
                    if ((int)response.StatusCode >= 500)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToList();
        var underAttack = await WrkAsync("GET /claims/{id}/status under attack", baseUrl, statusScript, seconds);
        await stop.CancelAsync();
        await Task.WhenAll(attackers);

        return new HostileResult(normal.CpuMs, costs, underAttack, sent, failures, PeakRssMb(apiPid));
    }

    /// <summary>Eight clients send one kind of request for a while; the API's CPU time per request, from /proc.</summary>
    private static async Task<(int Requests, double CpuMs, int Status, int LargestAnswer)> CostAsync(
        int apiPid, TimeSpan duration, Func<HttpRequestMessage> request, HttpClient http)
    {
        var count = 0;
        var largest = 0;
        var statuses = new ConcurrentDictionary<int, int>();
        var before = CpuMs(apiPid);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Attackers).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed < duration)
            {
                using var response = await http.SendAsync(request());
                var body = await response.Content.ReadAsByteArrayAsync();
                Interlocked.Increment(ref count);
                statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                InterlockedMax(ref largest, body.Length);
            }
        })));
        var cpu = CpuMs(apiPid) - before;
        return (count, count == 0 ? double.NaN : cpu / count, statuses.MaxBy(s => s.Value).Key, largest);
    }

    private static string HostileReport(HostileResult result, Measure statusAlone)
    {
        var text = new StringBuilder();
        var worst = result.Costs.MaxBy(c => c.CpuMsPerRequest)!;
        text.AppendLine(CultureInfo.InvariantCulture, $"Worst-case bodies (tests/Claims.Hostile), {Attackers} clients each: API CPU per request next to a normal POST /claims with 2 evidence items ({result.NormalPostCpuMs:F2} ms).");
        text.AppendLine();
        text.AppendLine("| body | answer | largest answer, bytes | requests | CPU ms per request | × normal POST |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var cost in result.Costs)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {cost.Name} | {cost.Status} | {cost.LargestAnswer:N0} | {cost.Requests:N0} | {cost.CpuMsPerRequest:F2} | {cost.CpuMsPerRequest / result.NormalPostCpuMs:F2} |");
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Under attack ({Attackers} clients cycling through every body, {result.AttackRequests:N0} requests, {result.AttackFailures} of them 5xx or failed): " +
            $"GET /claims/{{id}}/status {result.StatusUnderAttack.RequestsPerSecond:N0}/s, p99 {Ms(result.StatusUnderAttack.P99Ms)} ms, against {statusAlone.RequestsPerSecond:N0}/s, p99 {Ms(statusAlone.P99Ms)} ms without. " +
            $"The most expensive body costs {worst.CpuMsPerRequest / result.NormalPostCpuMs:F2}× a normal POST ({worst.Name}). " +
            $"API peak RSS during the attack {result.PeakRssMb:N0} MB (target < 300 MB: {(result.PeakRssMb < 300 ? "met" : "**not met**")}).");
        return text.ToString();
    }

    private static double CpuMs(int pid)
    {
        // Fields 14 and 15 of /proc/PID/stat (after the parenthesised name) are user and system time in clock ticks (USER_HZ, 100 on Linux).
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0;
    }

    /// <summary>Writing 5 to clear_refs resets the peak RSS (VmHWM), so that a scenario's own peak can be read.</summary>
    private static void ResetPeakRss(int pid) => File.WriteAllText($"/proc/{pid}/clear_refs", "5");

    private static void InterlockedMax(ref int location, int value)
    {
        var current = Volatile.Read(ref location);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
