using System.Diagnostics;
using Claims.Api.Claims;
using Npgsql;

namespace Claims.Benchmarks;

/// <summary>
/// The near-duplicate scenarios of <c>run</c> (issue 13): GET /claims/similar asked with many
/// realistic probes rather than one text (one text measures one set of posting lists, cached), and
/// what filing each statement for that look-up costs POST /claims.
/// </summary>
public static partial class BenchmarkRun
{
    private const int Probes = 1000;
    private const string PostCostName = "POST /claims with 2 evidence, filed vs not (alternating slices)";
    private static readonly TimeSpan PostSlice = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The wrk script's body for GET /claims/similar: statements of claims drawn at random (so in
    /// every language the data holds, in its proportions), each edited as a reporter logging the
    /// same claim again might: a word dropped or two neighbouring words swapped. Each request asks
    /// for one of them at random.
    /// </summary>
    private static async Task<string> SimilarProbesAsync(NpgsqlConnection connection, TextWriter output)
    {
        var random = new Random(13);
        var probes = new List<string>();
        var languages = new SortedDictionary<string, int>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand($"SELECT c.language, c.statement FROM bench_ids b JOIN claims c ON c.id = b.id ORDER BY b.n LIMIT {Probes}", connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var language = reader.GetString(0);
                languages[language] = languages.GetValueOrDefault(language) + 1;
                probes.Add(Uri.EscapeDataString(Edit(reader.GetString(1), random)));
            }
        }

        output.WriteLine($"GET /claims/similar: {probes.Count:N0} edited statements ({string.Join(", ", languages.Select(l => $"{l.Key} {l.Value}"))}).");
        // Escaped, a probe holds only letters, digits and -_.~%: safe in a Lua string as it is.
        return $$"""
            local probes = { {{string.Join(",", probes.Select(p => $"\"{p}\""))}} }
            request = function() return wrk.format("GET", "/claims/similar?limit=10&minScore=0.5&text=" .. probes[math.random(#probes)]) end
            """;
    }

    /// <summary>A word dropped or two neighbouring words swapped; a statement of fewer than three words stays as it is.</summary>
    private static string Edit(string statement, Random random)
    {
        var words = statement.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 3)
        {
            return statement;
        }

        if (random.Next(2) == 0)
        {
            var dropped = random.Next(words.Length);
            return string.Join(' ', words.Where((_, i) => i != dropped));
        }

        var swapped = random.Next(words.Length - 1);
        (words[swapped], words[swapped + 1]) = (words[swapped + 1], words[swapped]);
        return string.Join(' ', words);
    }

    /// <summary>
    /// Files the claims that have no similarity keys yet (a database loaded without them) before
    /// anything is measured: until then the look-up misses claims, and the backfill's writes would
    /// share the cores with the scenarios. Done here rather than waiting for the API's backfill,
    /// whose batches of 1,000 rows took longer than the API's 4 s command timeout on a 100,000-claim
    /// database just loaded, so that it filed none.
    /// </summary>
    private static async Task FileUnfiledAsync(string connectionString, TextWriter output)
    {
        await using var db = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 0 });
        var clock = Stopwatch.StartNew();
        var filed = await SimilarityBackfill.FileAllAsync(db, CancellationToken.None);
        if (filed > 0)
        {
            output.WriteLine($"Filed {filed:N0} claims for the near-duplicate look-up in {clock.Elapsed.TotalSeconds:F0} s.");
        }
    }

    private sealed record PostCost(Measure Filed, Measure Unfiled, double LowestSlice, double HighestSlice)
    {
        public double Ratio => Filed.RequestsPerSecond / Unfiled.RequestsPerSecond;

        public int Errors => Filed.Errors + Unfiled.Errors;
    }

    /// <summary>
    /// POST /claims against the API measured so far (filing on) and a second process of the same
    /// build with Claims:FileSimilarity=false, side by side on the same database, wrk switching
    /// between them every few seconds (on, off, off, on, ...) so that both see the same drift in a
    /// shared machine's load, as the events benchmark does. The baseline's claims are left
    /// unfiled, and this files them between slices, unmeasured; a pair of slices in which the
    /// running API's own backfill (once a minute) filed some of them is measured again, so that
    /// the baseline never pays for the filing it leaves out.
    /// </summary>
    private static async Task<PostCost> ComparePostCostAsync(string apiFolder, string connectionString, string filedUrl, string script, bool quick, TextWriter output)
    {
        var unfiledUrl = $"http://127.0.0.1:{FreePort()}";
        using var unfiledApi = StartApi(apiFolder, connectionString, unfiledUrl, ("Claims__FileSimilarity", "false"));
        try
        {
            await WaitReadyAsync(unfiledUrl);
            await using var db = NpgsqlDataSource.Create(connectionString);
            var seconds = (int)PostSlice.TotalSeconds;
            // The second process starts cold: it is driven until its rate settles, as the first was.
            await SettleAsync(unfiledUrl, script, quick ? 6 : 12, "claims without filing", output);

            await SimilarityBackfill.FileAllAsync(db, CancellationToken.None);
            var filed = new List<Measure>();
            var unfiled = new List<Measure>();
            var pairs = quick ? 3 : 6;
            for (var attempt = 0; filed.Count < pairs; attempt++)
            {
                if (attempt == pairs + 3)
                {
                    throw new InvalidOperationException("The API's backfill ran inside a slice without filing four times: the comparison could not be measured cleanly.");
                }

                Measure? on = null, off = null;
                var clean = true;
                foreach (var filing in filed.Count % 2 == 0 ? new[] { true, false } : [false, true])
                {
                    if (filing)
                    {
                        on = await WrkAsync(PostCostName, filedUrl, script, seconds);
                        continue;
                    }

                    var start = DateTime.UtcNow;
                    off = await WrkAsync(PostCostName, unfiledUrl, script, seconds);
                    clean = await NoneFiledSinceAsync(db, start);
                    await SimilarityBackfill.FileAllAsync(db, CancellationToken.None);
                }

                output.WriteLine(clean
                    ? $"  pair {filed.Count + 1}: {on!.RequestsPerSecond:N0}/s filed, {off!.RequestsPerSecond:N0}/s without filing"
                    : "  the API's backfill filed claims of the slice without filing: that pair is measured again");
                if (clean)
                {
                    filed.Add(on!);
                    unfiled.Add(off!);
                }
            }

            var ratios = filed.Zip(unfiled, (f, u) => f.RequestsPerSecond / u.RequestsPerSecond).Order().ToList();
            return new PostCost(Combine(filed), Combine(unfiled), ratios[0], ratios[^1]);
        }
        finally
        {
            unfiledApi.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Whether every claim written since <paramref name="start"/> (by this machine's clock, as created_at) still has no keys.</summary>
    private static async Task<bool> NoneFiledSinceAsync(NpgsqlDataSource db, DateTime start)
    {
        await using var command = db.CreateCommand("SELECT count(*) FROM claims WHERE created_at >= $1 AND similarity_keys IS NOT NULL");
        command.Parameters.AddWithValue(start);
        return (long)(await command.ExecuteScalarAsync())! == 0;
    }

    /// <summary>Slices of equal length: their mean rate, the median of their percentiles, all their errors.</summary>
    private static Measure Combine(List<Measure> slices)
    {
        static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToList();
            return sorted[sorted.Count / 2];
        }

        return new Measure(slices[0].Name, slices.Average(s => s.RequestsPerSecond), Median(slices.Select(s => s.P50Ms)), Median(slices.Select(s => s.P99Ms)), slices.Sum(s => s.Errors));
    }
}
