using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Npgsql;

namespace Claims.Benchmarks;

/// <summary>
/// The <c>provenance</c> verb (issue 16): what counting independent origins and following
/// duplicates cost the reads they touch, the status look-up, GET /claims/{id} with evidence, the
/// list and the searches (which leave duplicates out), against the build before them,
/// both published from this repository and run side by side on the same database, wrk switching
/// between them every few seconds so that both see the same drift in a shared machine's load.
/// </summary>
public static partial class BenchmarkRun
{
    /// <summary>The last commit before chains and origins were read (issue 16's second part).</summary>
    public const string ProvenanceBaseline = "7d46471";

    private static readonly TimeSpan ProvenanceSlice = TimeSpan.FromSeconds(5);

    public static async Task<int> ProvenanceAsync(string connectionString, string baseline, bool quick, bool writeReadme, TextWriter output)
    {
        if (Which("wrk") is null || Which("git") is null)
        {
            output.WriteLine("The benchmark needs wrk and git: apt-get install wrk git.");
            return 2;
        }

        var work = Directory.CreateTempSubdirectory("claims-provenance-").FullName;
        var before = Path.Combine(work, "before-source");
        output.WriteLine($"Publishing this build and {baseline} to {work} ...");
        await PublishApiAsync(work);
        await RunProcessAsync("git", ["-C", RepositoryRoot(), "worktree", "add", "--detach", before, baseline], null);
        try
        {
            await RunProcessAsync("dotnet", ["publish", Path.Combine(before, "src", "Claims.Api"), "-c", "Release", "-o", Path.Combine(work, "before"), "--nologo", "-v", "q"], null);
        }
        finally
        {
            await RunProcessAsync("git", ["-C", RepositoryRoot(), "worktree", "remove", "--force", before], null);
        }

        var nowUrl = $"http://127.0.0.1:{FreePort()}";
        var beforeUrl = $"http://127.0.0.1:{FreePort()}";
        var loadBefore = LoadAverage();
        using var now = StartApi(Path.Combine(work, "api"), connectionString, nowUrl);
        try
        {
            await WaitReadyAsync(nowUrl);
            // The schema is this build's: the older one only reads it (its migrations are all applied).
            using var old = StartApi(Path.Combine(work, "before"), connectionString, beforeUrl, ("Database__MigrateOnStartup", "false"));
            try
            {
                await WaitReadyAsync(beforeUrl);
                var provenance = await RecordProvenanceAsync(connectionString, nowUrl, output);
                // A database from before the counts has none kept: the API's backfill counts them
                // in the background, and the reads count them on the fly until then. Measured
                // once the counts are all kept, as a database is after its first minutes.
                await using (var db = NpgsqlDataSource.Create(connectionString))
                {
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    var counted = await Claims.Api.Provenance.OriginCountsBackfill.CountAllAsync(db, CancellationToken.None);
                    output.WriteLine($"Counted the origins of {counted:N0} claims in {clock.Elapsed.TotalSeconds:F1} s.");
                }

                // The walk index leaves duplicates out since 0020, which the build before does
                // not know to ask for: it gets the index it was written for, for the run.
                await using (var db = NpgsqlDataSource.Create(connectionString))
                await using (var index = db.CreateCommand(
                    """
                    CREATE INDEX IF NOT EXISTS claims_search_walk_before_idx ON claims (updated_at DESC, id DESC) INCLUDE (search_vector)
                        WHERE octet_length(statement) + coalesce(octet_length(summary), 0) <= 400
                    """))
                {
                    index.CommandTimeout = 0;
                    await index.ExecuteNonQueryAsync();
                }

                // Only the status and claim scripts are used: no deep page is needed.
                var data = await PrepareAsync(connectionString, nowUrl, work, output, deepPage: 2);
                foreach (var url in new[] { nowUrl, beforeUrl })
                {
                    await SettleAsync(url, data.StatusScript, quick ? 6 : 12, "status look-ups", output);
                    await WrkAsync("warm-up", url, data.ClaimScript, quick ? 3 : 10);
                }

                var pairs = quick ? 3 : 6;
                var rows = new List<(string Name, Measure Now, Measure Before, double Lowest, double Highest)>();
                // The list and the searches leave duplicates out, each in its own way (ClaimSearch):
                // measured against the build before, which lists them.
                foreach (var (name, script) in new[]
                {
                    (Status, data.StatusScript), (ClaimWithEvidence, data.ClaimScript), (FirstPage, data.FirstPageScript),
                    (CommonTerm, data.CommonSearchScript), (CommonTermNewest, data.CommonNewestScript),
                })
                {
                    var withOrigins = new List<Measure>();
                    var without = new List<Measure>();
                    for (var pair = 0; pair < pairs; pair++)
                    {
                        // Alternating which goes first, so that neither always follows the other's cache.
                        foreach (var current in pair % 2 == 0 ? new[] { true, false } : [false, true])
                        {
                            (current ? withOrigins : without).Add(await WrkAsync(name, current ? nowUrl : beforeUrl, script, (int)ProvenanceSlice.TotalSeconds));
                        }

                        output.WriteLine($"  {name}, pair {pair + 1}: {withOrigins[^1].RequestsPerSecond:N0}/s with origins, {without[^1].RequestsPerSecond:N0}/s before");
                    }

                    var ratios = withOrigins.Zip(without, (w, b) => w.RequestsPerSecond / b.RequestsPerSecond).Order().ToList();
                    rows.Add((name, Combine(withOrigins), Combine(without), ratios[0], ratios[^1]));
                }

                // The track record reads all of a source's evidence: measured beside reading the source itself.
                var (recordScript, sourceScript, perSource) = await SourceScriptsAsync(connectionString, work);
                var records = new List<Measure>();
                var sourcesRead = new List<Measure>();
                for (var pair = 0; pair < pairs; pair++)
                {
                    foreach (var record in pair % 2 == 0 ? new[] { true, false } : [false, true])
                    {
                        (record ? records : sourcesRead).Add(await WrkAsync(record ? RecordName : SourceName, nowUrl, record ? recordScript : sourceScript, (int)ProvenanceSlice.TotalSeconds));
                    }
                }

                var recordRatios = records.Zip(sourcesRead, (r, s) => r.RequestsPerSecond / s.RequestsPerSecond).Order().ToList();
                var (recordRate, sourceRate) = (Combine(records), Combine(sourcesRead));

                var text = new StringBuilder();
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"Provenance (`provenance`, {DateTime.UtcNow:yyyy-MM-dd}, {data.Claims:N0} claims; {provenance}; this build against {baseline}, the build before origins were read, on the same database, {pairs} pairs of {ProvenanceSlice.TotalSeconds:N0} s slices at {Connections} connections; load average before {loadBefore}, after {LoadAverage()}):");
                text.AppendLine();
                text.AppendLine("| scenario | with origins, requests/s | p99 ms | before, requests/s | p99 ms | ratio | target |");
                text.AppendLine("|---|---:|---:|---:|---:|---|---|");
                foreach (var (name, withOrigins, without, lowest, highest) in rows)
                {
                    var ratio = withOrigins.RequestsPerSecond / without.RequestsPerSecond;
                    var met = ratio >= 0.9 && withOrigins.Errors + without.Errors == 0;
                    text.AppendLine(CultureInfo.InvariantCulture,
                        $"| {name} | {withOrigins.RequestsPerSecond:N0} | {withOrigins.P99Ms:F1} | {without.RequestsPerSecond:N0} | {without.P99Ms:F1} | {ratio:F2} (slices {lowest:F2} to {highest:F2}) | ≥ 0.90: {(met ? "met" : "**not met**")} |");
                }

                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {RecordName} ({perSource}) | {recordRate.RequestsPerSecond:N0} | {recordRate.P99Ms:F1} | {SourceName}: {sourceRate.RequestsPerSecond:N0} | {sourceRate.P99Ms:F1} | {recordRate.RequestsPerSecond / sourceRate.RequestsPerSecond:F2} of reading the source (slices {recordRatios[0]:F2} to {recordRatios[^1]:F2}) | none: a new read; errors {recordRate.Errors + sourceRate.Errors} |");
                output.WriteLine(text);
                if (writeReadme)
                {
                    WriteReadme(Path.Combine(RepositoryRoot(), "README.md"), "provenance", text.ToString());
                }

                return 0;
            }
            finally
            {
                old.Kill(entireProcessTree: true);
                await using var db = NpgsqlDataSource.Create(connectionString);
                await using var drop = db.CreateCommand("DROP INDEX IF EXISTS claims_search_walk_before_idx");
                await drop.ExecuteNonQueryAsync();
            }
        }
        finally
        {
            now.Kill(entireProcessTree: true);
        }
    }

    private const string RecordName = "GET /sources/{id}/record";
    private const string SourceName = "GET /sources/{id}";

    /// <summary>wrk scripts reading the track records and the sources of the benchmark's sample, and how much evidence a sampled source has.</summary>
    private static async Task<(string Record, string Source, string PerSource)> SourceScriptsAsync(string connectionString, string work)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var sources = new List<Guid>();
        await using (var read = new NpgsqlCommand("SELECT id FROM bench_sources ORDER BY n", connection))
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                sources.Add(reader.GetGuid(0));
            }
        }

        await using var sizes = new NpgsqlCommand(
            """
            SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY n), max(n)
            FROM (SELECT count(e.id) AS n FROM bench_sources b LEFT JOIN evidence e ON e.source_id = b.id GROUP BY b.id) s
            """, connection);
        await using var sized = await sizes.ExecuteReaderAsync();
        await sized.ReadAsync();
        var perSource = string.Create(CultureInfo.InvariantCulture, $"evidence items per source: median {sized.GetInt64(0):N0}, most {sized.GetInt64(1):N0}");

        string Script(string name, string path)
        {
            var file = Path.Combine(work, name + ".lua");
            File.WriteAllText(file, $$"""
                wrk.headers["X-Api-Key"] = "{{Key}}"
                local sources = { {{string.Join(",", sources.Select(i => $"\"{i}\""))}} }
                math.randomseed(os.time())
                request = function() return wrk.format("GET", "/sources/" .. sources[math.random(#sources)] .. "{{path}}") end
                """);
            return file;
        }

        return (Script("record", "/record"), Script("source", ""), perSource);
    }

    /// <summary>
    /// Gives the generated data what the origins are computed from, in the proportions a desk that
    /// records provenance might have: a chain on one evidence item in ten (one or two relayed
    /// sources), and 'affiliated_with' or 'derived_from' relations among 2% of the sources,
    /// recorded through the API so that their groups are kept as in use. Chains already there are
    /// left as they are, so that a second run measures the same data.
    /// </summary>
    private static async Task<string> RecordProvenanceAsync(string connectionString, string baseUrl, TextWriter output)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var chains = new NpgsqlCommand(
            """
            WITH pool AS (SELECT array_agg(id) AS ids FROM (SELECT id FROM sources ORDER BY random() LIMIT 1000) s),
            picked AS (
                SELECT e.id, e.source_id, e.credibility,
                       pool.ids[1 + abs(hashtext(e.id::text)) % cardinality(pool.ids)] AS first,
                       pool.ids[1 + abs(hashtext(e.id::text || '2')) % cardinality(pool.ids)] AS second
                FROM evidence e TABLESAMPLE SYSTEM (10), pool
                WHERE NOT EXISTS (SELECT 1 FROM evidence x WHERE x.via_source_ids <> '{}'))
            UPDATE evidence e
            SET via_source_ids = CASE WHEN p.credibility % 2 = 0 OR p.second IN (p.first, p.source_id) THEN ARRAY[p.first] ELSE ARRAY[p.first, p.second] END
            FROM picked p WHERE e.id = p.id AND p.first <> p.source_id
            """, connection) { CommandTimeout = 0 })
        {
            var changed = await chains.ExecuteNonQueryAsync();
            output.WriteLine($"Chains given to {changed:N0} evidence items.");
        }

        var pairs = new List<(Guid Source, Guid Related, string Kind)>();
        await using (var relations = new NpgsqlCommand(
            """
            SELECT a.id, b.id, CASE WHEN a.n % 2 = 0 THEN 'affiliated_with' ELSE 'derived_from' END
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM sources) a
            JOIN (SELECT id, row_number() OVER (ORDER BY id DESC) AS n FROM sources) b ON b.n = a.n AND b.id <> a.id
            WHERE a.n % 50 = 0 AND NOT EXISTS (SELECT 1 FROM source_relations)
            """, connection))
        await using (var reader = await relations.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                pairs.Add((reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2)));
            }
        }

        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        http.DefaultRequestHeaders.Add("X-Api-Key", Key);
        foreach (var (source, related, kind) in pairs)
        {
            (await http.PostAsJsonAsync($"/sources/{source}/relations", new { kind, relatedSourceId = related })).EnsureSuccessStatusCode();
        }

        // One claim in 200 recorded as a duplicate of another, through the API, so that lists
        // have duplicates to leave out and some status look-ups follow a canonical.
        var duplicates = new List<(Guid Claim, Guid Canonical)>();
        await using (var pick = new NpgsqlCommand(
            """
            WITH sample AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM claims TABLESAMPLE SYSTEM (1))
            SELECT a.id, b.id FROM sample a JOIN sample b ON b.n = a.n + 1
            WHERE a.n % 2 = 1 AND NOT EXISTS (SELECT 1 FROM claim_relations WHERE kind = 'duplicate_of')
            """, connection))
        await using (var reader = await pick.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                duplicates.Add((reader.GetGuid(0), reader.GetGuid(1)));
            }
        }

        foreach (var (claim, canonical) in duplicates)
        {
            (await http.PostAsJsonAsync($"/claims/{claim}/relations", new { kind = "duplicate_of", relatedClaimId = canonical })).EnsureSuccessStatusCode();
        }

        // Recording them made them the most recently changed claims, so that every search walking
        // the newest claims first would walk past all of them at once, as right after a desk marks
        // hundreds in a minute. They are put back where their generated change times lie, spread
        // over two years, as duplicates marked over time would be; then the table is vacuumed, as
        // autovacuum would, so that both builds read all-visible pages.
        await using (var spread = new NpgsqlCommand(
            """
            UPDATE claims SET updated_at = created_at + (abs(hashtext(id::text)) % 259200) * interval '1 second'
            WHERE canonical_claim_id IS NOT NULL
            """, connection) { CommandTimeout = 0 })
        {
            await spread.ExecuteNonQueryAsync();
        }

        await using (var vacuum = new NpgsqlCommand("VACUUM (ANALYZE) claims", connection) { CommandTimeout = 0 })
        {
            await vacuum.ExecuteNonQueryAsync();
        }

        await using var count = new NpgsqlCommand(
            """
            SELECT (SELECT count(*) FROM evidence WHERE via_source_ids <> '{}'), (SELECT count(*) FROM evidence),
                   (SELECT count(*) FROM source_relations), (SELECT count(*) FROM sources WHERE origin_group_id IS NOT NULL),
                   (SELECT count(*) FROM claims WHERE canonical_claim_id IS NOT NULL)
            """, connection);
        await using var counted = await count.ExecuteReaderAsync();
        await counted.ReadAsync();
        return string.Create(CultureInfo.InvariantCulture,
            $"{counted.GetInt64(0):N0} of {counted.GetInt64(1):N0} evidence items with chains, {counted.GetInt64(2):N0} relations, {counted.GetInt64(3):N0} sources in origin groups, {counted.GetInt64(4):N0} claims recorded as duplicates");
    }
}
