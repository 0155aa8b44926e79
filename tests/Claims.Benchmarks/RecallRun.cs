using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;

namespace Claims.Benchmarks;

public static partial class BenchmarkRun
{
    /// <summary>
    /// Issue 13's recall check: probes made from stored claims, each answered by GET /claims/similar (the
    /// API published and started here on the same database, or the one at <paramref name="baseUrl"/>) and
    /// by the brute force; prints recall by language and overall. Answers 1 below the 95% target.
    /// </summary>
    public static async Task<int> RecallAsync(string connectionString, int count, bool indexed, string? baseUrl, string? apiKey, TextWriter output)
    {
        await using var db = NpgsqlDataSource.Create(connectionString);
        var probes = await Recall.MakeProbesAsync(db, count);
        output.WriteLine($"{probes.Count} probes ({string.Join(", ", probes.GroupBy(p => p.Language).Select(g => $"{g.Count()} {g.Key}"))}); the brute force for each...");

        var truths = new Truth[probes.Count];
        var clock = Stopwatch.StartNew();
        // One full scan per probe, as many at once as there are cores.
        await Parallel.ForEachAsync(Enumerable.Range(0, probes.Count), new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, async (i, ct) =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            truths[i] = await Recall.BruteForceAsync(connection, probes[i].Text, indexed, ct);
        });
        var bruteForce = clock.Elapsed;
        output.WriteLine($"Brute force: {bruteForce.TotalSeconds:F1} s. Asking the API...");

        Process? api = null;
        string? work = null;
        if (baseUrl is null)
        {
            work = Directory.CreateTempSubdirectory("claims-recall-").FullName;
            output.WriteLine($"Publishing the API to {work} ...");
            await PublishApiAsync(work);
            baseUrl = $"http://127.0.0.1:{FreePort()}";
            apiKey = Key;
            api = StartApi(Path.Combine(work, "api"), connectionString, baseUrl);
        }

        var answers = new List<Guid>[probes.Count];
        var latencies = new double[probes.Count];
        var failed = 0;
        try
        {
            await WaitReadyAsync(baseUrl);
            using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
            if (apiKey is not null)
            {
                http.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
            }

            // One at a time: this measures what the answers hold, not how fast they come under load.
            for (var i = 0; i < probes.Count; i++)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    answers[i] = await Recall.AskAsync(http, probes[i].Text);
                }
                catch (HttpRequestException e)
                {
                    output.WriteLine($"  probe {i + 1} failed: {e.Message}");
                    answers[i] = [];
                    failed++;
                }

                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        }
        finally
        {
            if (api is not null)
            {
                api.Kill(entireProcessTree: true);
                await api.WaitForExitAsync();
                api.Dispose();
                Directory.Delete(work!, recursive: true);
            }
        }

        var report = RecallReport(probes, truths, answers, latencies, failed, bruteForce, indexed);
        output.WriteLine(report.Text);
        return report.Recall >= 0.95 ? 0 : 1;
    }

    private static (string Text, double Recall) RecallReport(List<Probe> probes, Truth[] truths, List<Guid>[] answers, double[] latencies, int failed, TimeSpan bruteForce, bool indexed)
    {
        var hits = probes.Select((_, i) => truths[i].Hits(answers[i])).ToArray();
        string Share(IEnumerable<int> indexes)
        {
            var list = indexes.ToList();
            var (found, expected) = (list.Sum(i => hits[i]), list.Sum(i => truths[i].Expected));
            return expected == 0 ? "no claim to find" : $"{100.0 * found / expected:F1}% ({found:N0} of {expected:N0})";
        }

        var all = Enumerable.Range(0, probes.Count).ToList();
        var recall = (double)all.Sum(i => hits[i]) / Math.Max(1, all.Sum(i => truths[i].Expected));
        var sorted = latencies.Order().ToArray();
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"Recall of GET /claims/similar (limit {Recall.TopK}, minScore {Recall.MinScore}) against the exact answer (similarity() ≥ {Recall.MinScore} {(indexed ? "through the trigram GIN index" : "by a full scan")}, its top {Recall.TopK}) ")
            .Append(CultureInfo.InvariantCulture, $"over {probes.Count} probes made from stored claims by 1 to 3 edits ({probes.Count(p => p.HasNearDuplicates)} of them from claims with near-duplicates): ")
            .Append(string.Join(", ", Recall.Languages.Select(l => $"{l} {Share(all.Where(i => probes[i].Language == l))}")))
            .Append(CultureInfo.InvariantCulture, $"; overall {Share(all)} (target ≥ 95%: {(recall >= 0.95 ? "met" : "**not met**")}). ")
            .Append(CultureInfo.InvariantCulture, $"Claims to find per probe: {all.Average(i => truths[i].Expected):F1} on average, {all.Count(i => truths[i].Expected == 0)} probes with none. ")
            .Append(CultureInfo.InvariantCulture, $"{(indexed ? "Exact answers" : "Brute force")} {bruteForce.TotalSeconds:F0} s ({bruteForce.TotalSeconds / Math.Max(1, probes.Count) * Environment.ProcessorCount:F2} s a probe, {Environment.ProcessorCount} at a time); ")
            .Append(CultureInfo.InvariantCulture, $"the API answered one at a time in p50 {Quantile(sorted, 0.5):F1} ms, p99 {Quantile(sorted, 0.99):F1} ms; {failed} failed.");

        // The misses, so that a recall below target says where it went.
        foreach (var i in all.Where(i => hits[i] < truths[i].Expected).Take(10))
        {
            var missed = truths[i].Top.Where(t => !answers[i].Contains(t.Id)).Select(t => $"{t.Id} ({t.Score:F3})");
            text.AppendLine().Append(CultureInfo.InvariantCulture,
                $"  missed for {probes[i].Language} probe \"{probes[i].Text}\" ({string.Join(", ", probes[i].Edits)}): {string.Join(", ", missed)}");
        }

        return (text.ToString(), recall);
    }

    private static double Quantile(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}
