using System.Data;
using Claims.Api.Errors;
using Claims.Api.Json;
using Claims.Api.Provenance;
using Claims.Api.Verification;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;

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
        UPDATE claims c SET origin_counts = {Origins.CountsOf("c.id")}, {Origins.Moved}
        WHERE c.id IN (
            SELECT unnest(@seeds::uuid[])
            UNION SELECT unnest(@recount::uuid[])
            UNION SELECT d.canonical_claim_id FROM claims d WHERE d.id = ANY(@seeds) AND d.canonical_claim_id IS NOT NULL);
        """;

    /// <summary>
    /// Points the claims at and below <paramref name="seeds"/> (whose duplicate_of relation just
    /// changed, or whose canonical was deleted) at the ends of their chains as they now are, and
    /// recounts the seeds, their new canonicals and <paramref name="formerCanonicals"/>: all of
    /// them answer differently now, so their versions move. Two statements, one round trip.
    /// </summary>
    public static Task RepointAsync(IDbConnection connection, IDbTransaction transaction, Guid[] seeds, Guid[] formerCanonicals, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(Sql, new { seeds, recount = formerCanonicals }, transaction, cancellationToken: ct));

    /// <summary>
    /// A canonical's status and the items its verdict is weighed on, its row locked until commit
    /// (NO KEY UPDATE, as an evidence write locks it): read before a change that may take a
    /// duplicate's evidence from it, then <see cref="LosesGroundsAsync"/> after.
    /// </summary>
    public static async Task<(string Status, List<TracedEvidence> Weighed)> WeighAsync(IDbConnection connection, IDbTransaction transaction, Guid canonical, CancellationToken ct)
    {
        await using var read = await connection.QueryMultipleAsync(new CommandDefinition(
            $"""
            SELECT status FROM claims WHERE id = @id FOR NO KEY UPDATE;
            {Origins.TracedSql} AND e.stance IN ('asserts', 'supports', 'refutes');
            """,
            new { id = canonical }, transaction, cancellationToken: ct));
        return (await read.ReadSingleAsync<string>(), [.. await read.ReadAsync<TracedEvidence>()]);
    }

    /// <summary>
    /// The 409 when the canonical's verdict held on <paramref name="before"/> and no longer holds on
    /// what it is weighed on now; the caller then returns without committing.
    /// </summary>
    public static async Task<ProblemHttpResult?> LosesGroundsAsync(
        IDbConnection connection, IDbTransaction transaction, Guid canonical, (string Status, List<TracedEvidence> Weighed) before, bool independent, CancellationToken ct)
    {
        var after = (await connection.QueryAsync<TracedEvidence>(new CommandDefinition(
            $"{Origins.TracedSql} AND e.stance IN ('asserts', 'supports', 'refutes')", new { id = canonical }, transaction, cancellationToken: ct))).AsList();
        var verdict = EnumNames<ClaimStatus>.Parse(before.Status);
        return Verdicts.Grounds(verdict, before.Weighed, independent).Holds && !Verdicts.Grounds(verdict, after, independent).Holds
            ? ProblemTypes.VerdictRestsOnEvidence.Result(
                $"Claim {canonical} is {before.Status}, and without this duplicate's evidence the verdict would have no grounds. Change its status first, or add other evidence to it. Nothing was changed.")
            : null;
    }
}
