using System.Data;
using Dapper;

namespace Claims.Api.Provenance;

/// <summary>
/// Keeps sources.origin_group_id in step with the relations that make sources one origin
/// ('affiliated_with' and 'derived_from', either way, transitively). Run in the transaction of every
/// write that adds or removes such a relation, or deletes a source that had one.
/// </summary>
internal static class SourceGroups
{
    /// <summary>The relation kinds that join two sources into one origin; 'cites' does not.</summary>
    public const string JoiningKinds = "('affiliated_with', 'derived_from')";

    /// <summary>For a write that must hold the regrouping's lock before it locks a row that an evidence write may wait for (deleting a source).</summary>
    public const string Lock = Origins.RecountingLock;

    // The lock queues regroupings one after another, and each statement of the batch reads what
    // the previous holder committed: two relations added at once (A-B, B-C) end as one group.
    private static readonly string Sql =
        $$"""
        {{Origins.RecountingLock}}
        WITH RECURSIVE reach (seed, source_id) AS (
            SELECT seed, seed FROM unnest(@seeds::uuid[]) AS seed
            UNION
            SELECT reach.seed, CASE WHEN r.source_id = reach.source_id THEN r.related_source_id ELSE r.source_id END
            FROM reach JOIN source_relations r ON reach.source_id IN (r.source_id, r.related_source_id)
            WHERE r.kind IN {{JoiningKinds}}),
        groups AS (
            SELECT seed, min(source_id::text)::uuid AS group_id, count(*) AS size FROM reach GROUP BY seed),
        members AS (
            SELECT DISTINCT r.source_id, g.group_id, g.size FROM reach r JOIN groups g ON g.seed = r.seed),
        regrouped AS (
            SELECT source_id, CASE WHEN size > 1 THEN group_id END AS group_id FROM members)
        UPDATE sources s SET origin_group_id = r.group_id
        FROM regrouped r
        WHERE s.id = r.source_id AND s.origin_group_id IS DISTINCT FROM r.group_id;
        WITH RECURSIVE reach (source_id) AS (
            SELECT unnest(@seeds::uuid[])
            UNION
            SELECT CASE WHEN r.source_id = reach.source_id THEN r.related_source_id ELSE r.source_id END
            FROM reach JOIN source_relations r ON reach.source_id IN (r.source_id, r.related_source_id)
            WHERE r.kind IN {{JoiningKinds}}),
        touched (claim_id) AS (
            SELECT e.claim_id FROM evidence e WHERE e.source_id IN (SELECT source_id FROM reach) AND e.via_source_ids = '{}'
            UNION
            SELECT e.claim_id FROM evidence e WHERE e.via_source_ids <> '{}' AND e.via_source_ids && ARRAY(SELECT source_id FROM reach))
        UPDATE claims c SET origin_counts = {{Origins.CountsOf("c.id")}}
        WHERE c.id IN (
            SELECT claim_id FROM touched
            UNION
            -- A duplicate's evidence counts toward its canonical too.
            SELECT d.canonical_claim_id FROM claims d JOIN touched t ON d.id = t.claim_id WHERE d.canonical_claim_id IS NOT NULL);
        """;

    /// <summary>
    /// Recomputes the groups of the sources connected to <paramref name="seeds"/>, and the origin
    /// counts of every claim with evidence from them (the last statement: those sources, reached
    /// again over the relations as they now are, are what the old and the new groups held). After a relation
    /// between two sources changes, its two ends; after a source is deleted, its former neighbours
    /// (together they reach everything the old group held). A group is named by its smallest
    /// source id, so the same sources always make the same group.
    /// </summary>
    public static Task RegroupAsync(IDbConnection connection, IDbTransaction transaction, IReadOnlyCollection<Guid> seeds, CancellationToken ct) =>
        seeds.Count == 0
            ? Task.CompletedTask
            : connection.ExecuteAsync(new CommandDefinition(Sql, new { seeds = seeds.Distinct().ToArray() }, transaction, cancellationToken: ct));
}
