extern alias Benchmarks;

using Benchmarks::Claims.Benchmarks;
using Claims.Tests.Infrastructure;
using Npgsql;

namespace Claims.Tests;

/// <summary>
/// Issue 13's recall promise for GET /claims/similar in a CI-sized dose: the benchmark's generator
/// (near-duplicate clusters in English, Ukrainian, Russian and Korean, each claim filed under its
/// similarity keys by the load) and the recall verb's probes and exact answers (a full scan each),
/// on thousands of claims instead of a million.
/// </summary>
public sealed class SimilarRecallTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    // Enough for every language to have the 25 claims with near-duplicates that half of its 50 probes
    // come from: at 3,000 Korean had 21.
    private const int Claims = 4000;
    private const int Probes = 200;

    [Fact]
    public async Task SimilarHoldsAtLeast95PercentOfTheExactTopTenOverProbesInAllFourLanguages()
    {
        // Loaded before the app starts, so that the keys the load wrote are all the look-up has.
        DataGenerator.Run(api.ConnectionString, Claims, TextWriter.Null);
        await using var db = NpgsqlDataSource.Create(api.ConnectionString);
        var probes = await Recall.MakeProbesAsync(db, Probes);
        var truths = new Truth[probes.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, probes.Count), new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (i, ct) =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            truths[i] = await Recall.BruteForceAsync(connection, probes[i].Text, ct: ct);
        });

        using var client = api.CreateClient();
        var hits = new int[probes.Count];
        for (var i = 0; i < probes.Count; i++)
        {
            hits[i] = truths[i].Hits(await Recall.AskAsync(client, probes[i].Text));
        }

        string Share(IEnumerable<int> indexes)
        {
            var list = indexes.ToList();
            var (found, expected) = (list.Sum(i => hits[i]), list.Sum(i => truths[i].Expected));
            return $"{100.0 * found / Math.Max(1, expected):F1}% ({found} of {expected})";
        }

        var all = Enumerable.Range(0, probes.Count).ToList();
        var recall = (double)all.Sum(i => hits[i]) / all.Sum(i => truths[i].Expected);
        var report = $"recall {Share(all)}; "
            + string.Join(", ", Recall.Languages.Select(l => $"{l} {Share(all.Where(i => probes[i].Language == l))}"));
        // Every language is probed, and the probes from claims with near-duplicates have several to find.
        Assert.True(probes.Count >= Probes, report);
        Assert.Equal(Recall.Languages, probes.Select(p => p.Language).Distinct().OrderBy(l => Array.IndexOf(Recall.Languages, l)));
        Assert.True(all.Sum(i => truths[i].Expected) > probes.Count, report);
        Assert.True(recall >= 0.95, report);
    }
}
