using Dapper;
using Npgsql;

namespace Claims.Api.Claims;

/// <summary>
/// The near-duplicate look-up, the one place that knows how it is done: GET /claims/similar and
/// POST /claims with checkDuplicates both ask it, so they always agree on what a duplicate is.
/// </summary>
public static class SimilarClaims
{
    /// <summary>
    /// Claims whose statement is at least <paramref name="minScore"/> similar to
    /// <paramref name="text"/>, best first, at most <paramref name="limit"/>: one statement, inside
    /// <paramref name="transaction"/> when one is given (a write checking before it inserts).
    /// </summary>
    public static async Task<IReadOnlyList<SimilarClaim>> FindAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string text, double minScore, int limit, ClaimsOptions options, CancellationToken ct)
    {
        // The claims filed under the probe's keys, at most SimilarityPerKey a key (the newest: a key that
        // crowds of claims share says little, and a recent claim is the likelier duplicate), the
        // SimilarityCandidates sharing the most keys, then similarity() itself on those only. Approximate:
        // a claim at the threshold shares no key with probability (1 - minScore^3)^42, which is
        // why the contract is a recall measured by the benchmark, not "every claim above minScore".
        var rows = await connection.QueryAsync<RankedClaimRow>(new CommandDefinition(
            $"""
            SELECT {ClaimsApi.QualifiedColumns("c")}, c.rank
            FROM (
                SELECT c.*, similarity(c.statement, @text)::real AS rank
                FROM (
                    SELECT f.claim_id, count(*) AS shared
                    FROM unnest(@keys) AS p (key)
                    CROSS JOIN LATERAL (
                        SELECT s.claim_id FROM claim_similarity_keys s
                        WHERE s.key = p.key
                        ORDER BY s.claim_id DESC
                        LIMIT {options.SimilarityPerKey}) f
                    GROUP BY f.claim_id
                    ORDER BY shared DESC, f.claim_id DESC
                    LIMIT {options.SimilarityCandidates}) candidate
                JOIN claims c ON c.id = candidate.claim_id
                -- Kept whole, so that similarity() runs once a claim rather than in the filter and the order both.
                OFFSET 0) c
            WHERE c.rank >= @minScore
            ORDER BY c.rank DESC, c.id DESC
            LIMIT @limit
            """,
            new { keys = SimilarityKeys.For(text), text, minScore = (float)minScore, limit },
            transaction, cancellationToken: ct));
        // A claim at the duplicate score comes with the relation a person would record, to the
        // end of its chain when it is itself a duplicate.
        return [.. rows.Select(r => new SimilarClaim(Math.Round(r.Rank, 4), r.ToClaim(), r.Rank >= (float)options.DuplicateScore
            ? new Relations.ClaimRelationRequest(Relations.ClaimRelationKind.DuplicateOf, r.CanonicalClaimId ?? r.Id)
            : null))];
    }
}
