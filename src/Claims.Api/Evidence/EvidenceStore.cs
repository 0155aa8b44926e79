using System.Data;
using Claims.Api.Json;
using Dapper;

namespace Claims.Api.Evidence;

/// <summary>The evidence SQL that claims and evidence endpoints share.</summary>
internal static class EvidenceStore
{
    // The chain comes as text: Dapper matches a record's constructor by column type, and an
    // array column's type is System.Array, which matches no Guid[] parameter.
    // The columns every evidence answer needs, for the aliases e (evidence) and s (its source).
    private const string ItemColumns =
        """
        e.id, e.claim_id, e.source_id, s.name AS source_name, s.kind AS source_kind, s.reliability AS source_reliability,
        e.stance, e.quote, e.url, e.published_at, e.note, e.credibility, e.created_at, e.created_by
        """;

    public const string SelectColumns =
        $"""
        {ItemColumns},
        array_to_string(e.via_source_ids, ',') AS via_source_ids, coalesce(e.via_source_ids[cardinality(e.via_source_ids)], e.source_id) AS origin_source_id,
        {ViaSources} AS via_sources
        """;

    /// <summary>
    /// What reading one claim selects (<see cref="ClaimEvidenceRow"/>): the chain as ids only, and
    /// the source's origin group, which comes with the join. The few claims with chains read their
    /// sources in a second round trip; a subquery per item for them cost every claim's read its
    /// set-up (measured: 0.85 of the statement without it).
    /// </summary>
    public const string ClaimColumns =
        $"""
        {ItemColumns},
        array_to_string(e.via_source_ids, ',') AS via_source_ids, s.origin_group_id AS source_group_id
        """;

    /// <summary>The sources of the chains of one claim's items, as <see cref="ChainSource"/>.</summary>
    public const string ChainSourcesSql = "SELECT id, name, kind, reliability, origin_group_id FROM sources WHERE id = ANY(@ids)";

    /// <summary>The same for the items of the claims in a uuid[] expression, through the few items with chains.</summary>
    public static string ChainSourcesOf(string claimIds) =>
        $$"""
        SELECT id, name, kind, reliability, origin_group_id FROM sources
        WHERE id IN (SELECT unnest(e.via_source_ids) FROM evidence e WHERE e.claim_id = ANY({{claimIds}}) AND e.via_source_ids <> '{}')
        """;

    /// <summary>
    /// The chain's sources as a JSON array in chain order, for the alias e; NULL without a chain,
    /// which most items have, so that they pay for no subquery.
    /// </summary>
    public const string ViaSources =
        """
        CASE WHEN e.via_source_ids = '{}' THEN NULL ELSE
            (SELECT json_agg(json_build_object('id', v.id, 'name', v.name, 'kind', v.kind, 'reliability', v.reliability) ORDER BY u.n)::text
             FROM unnest(e.via_source_ids) WITH ORDINALITY AS u (id, n) JOIN sources v ON v.id = u.id) END
        """;

    /// <summary>An item's origin, for the alias e: the chain's last source, or the quoted source.</summary>
    public const string Origin = "coalesce(e.via_source_ids[cardinality(e.via_source_ids)], e.source_id)";

    /// <summary>
    /// The ids among <paramref name="sourceIds"/> that name no source. Those found are held
    /// (FOR KEY SHARE) until commit: a chain's sources have no foreign key, so this keeps a
    /// concurrent delete from removing one under the new evidence.
    /// </summary>
    public static async Task<HashSet<Guid>> MissingSourcesAsync(IDbConnection connection, IDbTransaction? transaction, IReadOnlyCollection<Guid> sourceIds, CancellationToken ct)
    {
        if (sourceIds.Count == 0)
        {
            return [];
        }

        var found = await connection.QueryAsync<Guid>(new CommandDefinition(
            "SELECT id FROM sources WHERE id = ANY(@ids) FOR KEY SHARE", new { ids = sourceIds.Distinct().ToArray() }, transaction, cancellationToken: ct));
        var missing = sourceIds.ToHashSet();
        missing.ExceptWith(found);
        return missing;
    }

    /// <summary>Inserts all items in one statement, whatever their number, and counts the claim's origins again (and its canonical's, for a duplicate).</summary>
    public static Task InsertAsync(IDbConnection connection, IDbTransaction transaction, Guid claimId, IReadOnlyList<(Guid Id, EvidenceRequest Request)> items, string? createdBy, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(
            $"""
            {Provenance.Origins.CountingLock}
            INSERT INTO evidence (id, claim_id, source_id, stance, quote, url, published_at, note, credibility, created_by, via_source_ids)
            SELECT item.id, @claimId, item.source_id, item.stance, item.quote, item.url, item.published_at, item.note, item.credibility, @createdBy,
                   string_to_array(item.via, ',')::uuid[]
            FROM unnest(@ids::uuid[], @sourceIds::uuid[], @stances::text[], @quotes::text[], @urls::text[],
                        @publishedAts::timestamptz[], @notes::text[], @credibilities::smallint[], @vias::text[])
                 AS item (id, source_id, stance, quote, url, published_at, note, credibility, via);
            UPDATE claims SET origin_counts = {Provenance.Origins.CountsOf("@claimId")} WHERE id = @claimId;
            {Provenance.Origins.RecountCanonicalOf("@claimId")}
            """,
            new
            {
                claimId,
                createdBy,
                ids = items.Select(i => i.Id).ToArray(),
                sourceIds = items.Select(i => i.Request.SourceId!.Value).ToArray(),
                stances = items.Select(i => i.Request.Stance!.Value.ToName()).ToArray(),
                quotes = items.Select(i => i.Request.Quote).ToArray(),
                urls = items.Select(i => i.Request.Url).ToArray(),
                publishedAts = items.Select(i => i.Request.PublishedAt?.UtcDateTime).ToArray(),
                notes = items.Select(i => i.Request.Note).ToArray(),
                credibilities = items.Select(i => (short)(i.Request.Credibility ?? 6)).ToArray(),
                // unnest would flatten an array of chains, so each chain travels as one text.
                vias = items.Select(i => string.Join(',', i.Request.ViaSourceIds ?? [])).ToArray(),
            },
            transaction, cancellationToken: ct));
}
