using System.Data;
using Claims.Api.Provenance;
using Dapper;

namespace Claims.Api.Claims.Relations;

/// <summary>
/// Keeps claims.canonical_claim_id at the end of each duplicate's duplicate_of chain, and the
/// origin counts of the canonicals whose duplicates change. Run in the transaction of every write
/// that adds or removes a duplicate_of relation or deletes a claim in a chain, under
/// <see cref="Origins.RecountingLock"/>: the lock queues those writes, so that two of them cannot
/// close a cycle between them, and an evidence write counts its claim's canonical as it stands.
/// </summary>
internal static class Duplicates
{
    // The chains below the seeds are walked down, then each claim found up to its chain's end.
    // Chains have no cycles (AddRelation refuses them under the lock); the depth bound only keeps
    // a broken invariant from looping.
    private static readonly string Sql =
        $"""
        WITH RECURSIVE below (id) AS (
            SELECT unnest(@seeds::uuid[])
            UNION
            SELECT r.claim_id FROM below JOIN claim_relations r ON r.related_claim_id = below.id AND r.kind = 'duplicate_of'),
        up (start, id, depth) AS (
            SELECT id, id, 0 FROM below
            UNION ALL
            SELECT up.start, r.related_claim_id, up.depth + 1
            FROM up JOIN claim_relations r ON r.claim_id = up.id AND r.kind = 'duplicate_of'
            WHERE up.depth < 1000),
        ends AS (SELECT DISTINCT ON (start) start, nullif(id, start) AS canonical FROM up ORDER BY start, depth DESC)
        UPDATE claims c SET canonical_claim_id = ends.canonical, updated_at = clock_timestamp(), version = c.version + 1
        FROM ends
        WHERE c.id = ends.start AND c.canonical_claim_id IS DISTINCT FROM ends.canonical;
        UPDATE claims c SET origin_counts = {Origins.CountsOf("c.id")}
        WHERE c.id IN (
            SELECT unnest(@seeds::uuid[])
            UNION SELECT unnest(@recount::uuid[])
            UNION SELECT d.canonical_claim_id FROM claims d WHERE d.id = ANY(@seeds) AND d.canonical_claim_id IS NOT NULL);
        """;

    /// <summary>
    /// Points the claims at and below <paramref name="seeds"/> (whose duplicate_of relation just
    /// changed, or whose canonical was deleted) at the ends of their chains as they now are, which
    /// moves their version, and recounts the seeds, their new canonicals and
    /// <paramref name="formerCanonicals"/>. Two statements, one round trip.
    /// </summary>
    public static Task RepointAsync(IDbConnection connection, IDbTransaction transaction, Guid[] seeds, Guid[] formerCanonicals, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(Sql, new { seeds, recount = formerCanonicals }, transaction, cancellationToken: ct));
}
