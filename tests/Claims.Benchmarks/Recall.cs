using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Claims.Benchmarks;

/// <summary>A statement made from a stored claim by realistic edits, as a journalist about to log that claim again would type it.</summary>
public sealed record Probe(Guid Source, string Language, bool HasNearDuplicates, string Text, IReadOnlyList<Rewording.Edit> Edits);

/// <summary>
/// The exact answer for a probe: the top ten claims by similarity() of at least 0.5, best first (ties by
/// id), and every claim that scores at least as well as the tenth: an answer may hold any claim tied with
/// the tenth in its place, since nothing but the id tells them apart.
/// </summary>
public sealed record Truth(IReadOnlyList<(Guid Id, float Score)> Top, IReadOnlySet<Guid> Acceptable)
{
    public int Expected => Top.Count;

    /// <summary>How many of the top ten the first ten of an answer hold; at most <see cref="Expected"/>.</summary>
    public int Hits(IEnumerable<Guid> answer) => Math.Min(Expected, answer.Take(Recall.TopK).Distinct().Count(Acceptable.Contains));
}

/// <summary>
/// Issue 13's recall check for GET /claims/similar: probes made from stored claims, the brute-force
/// answer for each (a full scan of similarity()), and how much of it an answer holds. Recall over a set
/// of probes is the sum of their hits over the sum of their expected claims.
/// </summary>
public static class Recall
{
    public const int TopK = 10;

    public const float MinScore = 0.5f;

    public static readonly string[] Languages = ["en", "uk", "ru", "ko"];

    /// <summary>
    /// Probes spread evenly over English, Ukrainian, Russian and Korean, from claims picked by a hash of
    /// their id and the seed, so the same data gives the same probes. Where generate recorded which claims
    /// reword which, half of each language's probes come from claims that have near-duplicates (about a
    /// sixth of all claims), whose exact answers hold several claims, and half from the others.
    /// </summary>
    public static async Task<List<Probe>> MakeProbesAsync(NpgsqlDataSource db, int count, int seed = 13, CancellationToken ct = default)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var exists = new NpgsqlCommand($"SELECT to_regclass('{NearDuplicates.Table}') IS NOT NULL", connection);
        var clustered = (bool)(await exists.ExecuteScalarAsync(ct))!;
        // As joins: at a million claims the clustered ids outgrow work_mem, and NOT IN would then
        // search the list once per claim; NOT EXISTS becomes an anti-join that hashes it in batches.
        var clusteredIds = $"(SELECT claim_id AS id FROM {NearDuplicates.Table} UNION SELECT original_id FROM {NearDuplicates.Table}) k WHERE k.id = c.id";

        var sources = new List<(Guid Id, string Language, bool Clustered, string Statement)>();
        for (var l = 0; l < Languages.Length; l++)
        {
            var take = count / Languages.Length + (l < count % Languages.Length ? 1 : 0);
            var parts = clustered
                ? new[] { (true, $"AND EXISTS (SELECT FROM {clusteredIds})", take / 2), (false, $"AND NOT EXISTS (SELECT FROM {clusteredIds})", take - take / 2) }
                : new[] { (false, "", take) };
            foreach (var (inCluster, filter, limit) in parts)
            {
                await using var pick = new NpgsqlCommand(
                    $"SELECT c.id, c.statement FROM claims c WHERE c.language = @language {filter} ORDER BY md5(c.id::text || @seed) LIMIT @limit", connection)
                { CommandTimeout = 0 };
                pick.Parameters.AddWithValue("language", Languages[l]);
                pick.Parameters.AddWithValue("seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
                pick.Parameters.AddWithValue("limit", limit);
                await using var reader = await pick.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    sources.Add((reader.GetGuid(0), Languages[l], inCluster, reader.GetString(1)));
                }
            }
        }

        var random = new Random(seed);
        return sources.Select(s =>
        {
            var edits = new List<Rewording.Edit>();
            var text = Rewording.AsProbe(random, s.Statement, s.Language, edits);
            return new Probe(s.Id, s.Language, s.Clustered, text, edits);
        }).ToList();
    }

    /// <summary>
    /// The exact answer by a full scan: every claim's similarity() to the probe, each computed once (29 µs a
    /// claim on this machine: 3 s a probe at 100,000 claims, 30 s at a million). With <paramref name="indexed"/>
    /// the same answer through the trigram GIN index: % with the threshold at 0.5 finds exactly the claims
    /// whose similarity() is 0.5 or more (the index passes every claim that holds enough of the probe's
    /// trigrams, and each is checked with similarity() itself), about ten times faster.
    /// </summary>
    public static async Task<Truth> BruteForceAsync(NpgsqlConnection connection, string text, bool indexed = false, CancellationToken ct = default)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // OFFSET 0 keeps the subquery whole, so that the filter does not compute similarity() a second time.
        await using var command = new NpgsqlCommand(indexed
            ? """
              SELECT set_config('pg_trgm.similarity_threshold', @min::text, true);
              SELECT id, similarity(statement, @text) AS score FROM claims WHERE statement % @text ORDER BY score DESC, id
              """
            : """
              SELECT id, score FROM (SELECT id, similarity(statement, @text) AS score FROM claims OFFSET 0) s
              WHERE score >= @min ORDER BY score DESC, id
              """, connection, transaction) { CommandTimeout = 0 };
        command.Parameters.AddWithValue("text", NpgsqlDbType.Text, text);
        command.Parameters.AddWithValue("min", NpgsqlDbType.Real, MinScore);
        var top = new List<(Guid, float)>();
        var acceptable = new HashSet<Guid>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            if (indexed)
            {
                await reader.NextResultAsync(ct);
            }

            while (await reader.ReadAsync(ct))
            {
                var (id, score) = (reader.GetGuid(0), reader.GetFloat(1));
                if (top.Count == TopK && score < top[^1].Item2)
                {
                    break;
                }

                acceptable.Add(id);
                if (top.Count < TopK)
                {
                    top.Add((id, score));
                }
            }
        }

        return new Truth(top, acceptable);
    }

    /// <summary>The ids GET /claims/similar answers for a probe with the brute force's limit and threshold, best first.</summary>
    public static async Task<List<Guid>> AskAsync(HttpClient api, string text, CancellationToken ct = default)
    {
        var body = await api.GetFromJsonAsync<JsonElement>(
            $"/claims/similar?limit={TopK}&minScore={MinScore.ToString(System.Globalization.CultureInfo.InvariantCulture)}&text={Uri.EscapeDataString(text)}", ct);
        return body.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("claim").GetProperty("id").GetGuid()).ToList();
    }
}
