using System.Globalization;
using System.Text;
using Npgsql;

namespace Claims.Benchmarks;

/// <summary>
/// How templated the generated statements are: the trigram similarity (pg_trgm's similarity(), what
/// GET /claims/similar ranks by) of random pairs of unrelated claims in the same language, next to
/// that of each rewording and its original. Which claims reword which is kept by generate in
/// <see cref="Table"/>.
/// </summary>
public static class NearDuplicates
{
    /// <summary>claim_id rewords original_id; both are claims of the same generate run.</summary>
    public const string Table = "benchmark_near_duplicates";

    private const int NeighbourSamples = 100;

    /// <summary>
    /// The counts and both distributions; with <paramref name="neighbours"/> also how many unrelated claims lie
    /// at 0.5 or more around 100 random claims, which takes an index search each (about 0.25 s at 100,000
    /// claims, ten times that at a million), so generate leaves it to the similarity verb.
    /// </summary>
    public static string Report(NpgsqlDataSource db, bool neighbours = false, int pairs = 2000)
    {
        using var connection = db.OpenConnection();
        using (var exists = new NpgsqlCommand($"SELECT to_regclass('{Table}') IS NOT NULL", connection))
        {
            if (!(bool)exists.ExecuteScalar()!)
            {
                return "No near-duplicate table: the claims were not made by this generate, so which claims reword which is unknown.";
            }
        }

        var text = new StringBuilder();
        using (var counts = new NpgsqlCommand(
            $"""
            SELECT (SELECT count(*) FROM claims), (SELECT count(*) FROM {Table}), (SELECT count(DISTINCT original_id) FROM {Table}),
                   (SELECT count(*) FROM (SELECT statement FROM claims GROUP BY statement HAVING count(*) > 1) s)
            """, connection) { CommandTimeout = 0 })
        using (var reader = counts.ExecuteReader())
        {
            reader.Read();
            var (claims, rewordings, clusters, repeated) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
            text.Append(CultureInfo.InvariantCulture,
                $"Near-duplicates: {rewordings:N0} of {claims:N0} claims ({100.0 * rewordings / Math.Max(1, claims):F1}%) reword an earlier claim in its language, "
                + $"in {clusters:N0} clusters of 2 to 6 claims ({100.0 * (rewordings + clusters) / Math.Max(1, claims):F1}% of the claims); "
                + $"{repeated:N0} statements appear more than once.");
            text.AppendLine();
        }

        // Unrelated: a random sample paired, language by language, with another random sample; a pair
        // within one cluster (an original and its rewording, or two rewordings of one claim) is left out.
        var unrelated = Scores(connection,
            $"""
            WITH keyed AS (
                SELECT c.id, c.statement, c.language, coalesce(d.original_id, c.id) AS cluster
                FROM claims c LEFT JOIN {Table} d ON d.claim_id = c.id),
            a AS (SELECT *, row_number() OVER (PARTITION BY language) AS n FROM (SELECT * FROM keyed ORDER BY md5(id::text || 'a') LIMIT @pairs) s),
            b AS (SELECT *, row_number() OVER (PARTITION BY language) AS n FROM (SELECT * FROM keyed ORDER BY md5(id::text || 'b') LIMIT @pairs * 10) s)
            SELECT a.language, similarity(a.statement, b.statement) FROM a JOIN b ON b.language = a.language AND b.n = a.n
            WHERE a.cluster <> b.cluster
            """, pairs);
        var reworded = Scores(connection,
            $"""
            SELECT c.language, similarity(c.statement, o.statement)
            FROM (SELECT claim_id, original_id FROM {Table} ORDER BY md5(claim_id::text) LIMIT @pairs) d
            JOIN claims c ON c.id = d.claim_id JOIN claims o ON o.id = d.original_id
            """, pairs);

        text.Append(CultureInfo.InvariantCulture,
            $"Trigram similarity of {unrelated.Count:N0} random pairs of unrelated claims in the same language: {Upper(unrelated.Select(s => s.Score))}"
            + $" ({string.Join("; ", unrelated.GroupBy(s => s.Language).OrderByDescending(g => g.Count()).Select(g => $"{g.Key}: {Upper(g.Select(s => s.Score))}"))}).");
        text.AppendLine();
        if (neighbours)
        {
            text.AppendLine(Neighbourhood(connection));
        }

        text.Append(CultureInfo.InvariantCulture,
            $"Trigram similarity of {reworded.Count:N0} rewordings and their original: {Lower(reworded.Select(s => s.Score))}"
            + $" ({string.Join("; ", reworded.GroupBy(s => s.Language).OrderByDescending(g => g.Count()).Select(g => $"{g.Key}: {Lower(g.Select(s => s.Score))}"))}).");
        return text.ToString();
    }

    private static string Neighbourhood(NpgsqlConnection connection)
    {
        // How crowded a claim's neighbourhood is: other claims, not of its cluster, at 0.5 or more. Each
        // is found exactly through the trigram GIN index, which % with this threshold reads.
        var counts = new List<float>();
        using (var transaction = connection.BeginTransaction())
        {
            using var threshold = new NpgsqlCommand("SET LOCAL pg_trgm.similarity_threshold = 0.5", connection, transaction);
            threshold.ExecuteNonQuery();
            using var count = new NpgsqlCommand(
                $"""
                WITH keyed AS (
                    SELECT c.id, c.statement, coalesce(d.original_id, c.id) AS cluster
                    FROM claims c LEFT JOIN {Table} d ON d.claim_id = c.id),
                sample AS (SELECT * FROM keyed ORDER BY md5(id::text || 'n') LIMIT @samples)
                SELECT (SELECT count(*) FROM claims c LEFT JOIN {Table} d ON d.claim_id = c.id
                        WHERE c.statement % s.statement AND coalesce(d.original_id, c.id) <> s.cluster)
                FROM sample s
                """, connection, transaction) { CommandTimeout = 0 };
            count.Parameters.AddWithValue("samples", NeighbourSamples);
            using var reader = count.ExecuteReader();
            while (reader.Read())
            {
                counts.Add(reader.GetInt64(0));
            }
        }

        var crowd = counts.Order().ToArray();
        return string.Create(CultureInfo.InvariantCulture,
            $"Unrelated claims at similarity 0.5 or more to a claim ({crowd.Length} random claims): median {Quantile(crowd, 0.5):N0}, p90 {Quantile(crowd, 0.9):N0}, "
            + $"p99 {Quantile(crowd, 0.99):N0}; {100.0 * crowd.Count(n => n > 0) / Math.Max(1, crowd.Length):F0}% of the claims have at least one (short statements that share a subject, verb and tail).");
    }

    private static List<(string Language, float Score)> Scores(NpgsqlConnection connection, string sql, int pairs)
    {
        var scores = new List<(string, float)>();
        using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        command.Parameters.AddWithValue("pairs", pairs);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            scores.Add((reader.GetString(0), reader.GetFloat(1)));
        }

        return scores;
    }

    private static string Upper(IEnumerable<float> scores)
    {
        var sorted = scores.Order().ToArray();
        return $"median {Quantile(sorted, 0.5):F2}, p90 {Quantile(sorted, 0.9):F2}, p99 {Quantile(sorted, 0.99):F2}, {Share(sorted):F1}% ≥ 0.5";
    }

    private static string Lower(IEnumerable<float> scores)
    {
        var sorted = scores.Order().ToArray();
        return $"p1 {Quantile(sorted, 0.01):F2}, p10 {Quantile(sorted, 0.1):F2}, median {Quantile(sorted, 0.5):F2}, {Share(sorted):F1}% ≥ 0.5";
    }

    /// <summary>Nearest rank.</summary>
    private static float Quantile(float[] sorted, double q) => sorted.Length == 0 ? float.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double Share(float[] sorted) => sorted.Length == 0 ? 0 : 100.0 * sorted.Count(s => s >= 0.5f) / sorted.Length;
}
