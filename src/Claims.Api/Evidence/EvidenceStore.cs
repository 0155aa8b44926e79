using System.Data;
using Claims.Api.Json;
using Dapper;

namespace Claims.Api.Evidence;

/// <summary>The evidence SQL that claims and evidence endpoints share.</summary>
internal static class EvidenceStore
{
    public const string SelectColumns =
        """
        e.id, e.claim_id, e.source_id, s.name AS source_name, s.kind AS source_kind, s.reliability AS source_reliability,
        e.stance, e.quote, e.url, e.published_at, e.note, e.credibility, e.created_at, e.created_by
        """;

    /// <summary>The ids among <paramref name="sourceIds"/> that name no source.</summary>
    public static async Task<HashSet<Guid>> MissingSourcesAsync(IDbConnection connection, IDbTransaction? transaction, IReadOnlyCollection<Guid> sourceIds, CancellationToken ct)
    {
        if (sourceIds.Count == 0)
        {
            return [];
        }

        var found = await connection.QueryAsync<Guid>(new CommandDefinition(
            "SELECT id FROM sources WHERE id = ANY(@ids)", new { ids = sourceIds.Distinct().ToArray() }, transaction, cancellationToken: ct));
        var missing = sourceIds.ToHashSet();
        missing.ExceptWith(found);
        return missing;
    }

    /// <summary>Inserts all items in one statement, whatever their number.</summary>
    public static Task InsertAsync(IDbConnection connection, IDbTransaction transaction, Guid claimId, IReadOnlyList<(Guid Id, EvidenceRequest Request)> items, string? createdBy, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO evidence (id, claim_id, source_id, stance, quote, url, published_at, note, credibility, created_by)
            SELECT item.id, @claimId, item.source_id, item.stance, item.quote, item.url, item.published_at, item.note, item.credibility, @createdBy
            FROM unnest(@ids::uuid[], @sourceIds::uuid[], @stances::text[], @quotes::text[], @urls::text[],
                        @publishedAts::timestamptz[], @notes::text[], @credibilities::smallint[])
                 AS item (id, source_id, stance, quote, url, published_at, note, credibility)
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
            },
            transaction, cancellationToken: ct));
}
