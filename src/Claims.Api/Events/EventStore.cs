using System.Text.Json;
using Claims.Api.Errors;
using Claims.Api.Json;
using Dapper;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Claims.Api.Events;

/// <summary>An event as stored: its position, what happened to which subject, when, by whom, and the payload as JSON text.</summary>
public sealed record StoredEvent(long Position, EventType Type, Guid Subject, Guid? ClaimId, DateTime Time, string? Actor, string Data)
{
    /// <summary>The event as a CloudEvent; serialized with any JSON options, it writes the CloudEvents JSON format.</summary>
    public ChangeEvent ToChangeEvent()
    {
        using var data = JsonDocument.Parse(Data);
        return new ChangeEvent(
            Position.ToString(System.Globalization.CultureInfo.InvariantCulture), CloudEventJson.SourceReference, Type, "1.0",
            Time, Subject, "application/json", Actor, data.RootElement.Clone());
    }
}

/// <summary>A read of the events table: the events, and the position up to which it saw every event (see <see cref="EventStore.ReadToHorizonAsync"/>).</summary>
public sealed record EventRead(IReadOnlyList<StoredEvent> Events, long Horizon)
{
    /// <summary>
    /// Set when the position read from was below the purge's watermark: events after it were
    /// purged, so <see cref="Events"/> would skip them and the reader must be told instead.
    /// </summary>
    public PurgedEvents? Purged { get; init; }
}

/// <summary>
/// What a reader at <paramref name="After"/> lost to the retention purge: the events up to
/// <paramref name="Through"/> (the highest position ever purged), of which at least that one was
/// after its position. <paramref name="OldestKept"/> is the first position still kept, null when
/// none is: reading on with after=<paramref name="Through"/> starts there.
/// </summary>
public sealed record PurgedEvents(long After, long Through, long? OldestKept)
{
    /// <summary>The events-purged problem (410): the feed's answer, the stream's at its start, and the data of its last event.</summary>
    public ProblemDetails Problem() => ProblemTypes.EventsPurged.Details(
        $"Events after position {After} were purged, up to position {Through}: reading on from {After} would skip them. "
        + $"Resync from your source of truth (GET /claims, GET /sources), then read on with after={Through}"
        + (OldestKept is { } oldest ? $"; the oldest event kept is {oldest}." : "; no event is kept now."),
        new Dictionary<string, object?> { ["after"] = After, ["purgedThrough"] = Through, ["oldestKept"] = OldestKept });
}

/// <summary>
/// Reads the events table in position order, for the feed and the live stream. Positions become
/// visible in increasing order (see db/0006_events.sql), so a reader that asks for what follows
/// the last position it saw never misses an event and never sees one twice.
/// </summary>
public static class EventStore
{
    private sealed record Row(long Position, string Type, Guid Subject, Guid? ClaimId, DateTime Time, string? Actor, string Data);

    private sealed record PurgeRow(long Through, long? OldestKept);

    /// <summary>
    /// Up to <paramref name="limit"/> events after position <paramref name="after"/> that pass
    /// <paramref name="filter"/>, oldest first; or, when events after <paramref name="after"/> were
    /// purged, that instead (<see cref="EventRead.Purged"/>). After 0 means from the oldest event
    /// kept and is never refused.
    /// </summary>
    public static Task<EventRead> ReadAsync(NpgsqlDataSource db, EventFilter filter, long after, int limit, CancellationToken ct) =>
        ReadToHorizonAsync(db, filter, after, limit, ct);

    /// <summary>
    /// The events as <see cref="ReadAsync"/> reads them, and the horizon of the read: the last
    /// position handed out when it read, every one up to there finished. When fewer than
    /// <paramref name="limit"/> events come back, every event up to the horizon that passes the
    /// filter is among them, so a reader that filters (a webhook's fan-out) may move on to the
    /// horizon, past the events it does not want.
    /// Call it outside a transaction of its own: the read holds writers back until its transaction ends.
    /// </summary>
    public static async Task<EventRead> ReadToHorizonAsync(NpgsqlDataSource db, EventFilter filter, long after, int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await ReadCoreAsync(connection, filter, after, limit, ct);
    }

    private static async Task<EventRead> ReadCoreAsync(NpgsqlConnection connection, EventFilter filter, long after, int limit, CancellationToken ct)
    {
        var conditions = "position > @after";
        if (filter.Types.Count > 0)
        {
            conditions += " AND type = ANY(@types)";
        }

        if (filter.ClaimId is not null)
        {
            conditions += " AND claim_id = @claimId";
        }

        // One round trip, one implicit transaction: the first statement waits until every writer
        // that holds a position has finished (db/0006_events.sql), and holds new writers back
        // until the read is done; the second reads, with a snapshot taken after that wait, only
        // positions that the sequence had handed out by then. The last reads the purge's
        // watermark after the events, with a later snapshot: a purge that the events' read
        // already missed is seen there, so a hole is reported, never skipped (at worst, a read
        // that a purge overtook between the two statements is refused although complete).
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            $"""
            SELECT pg_advisory_xact_lock(7274, 12);
            SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_position_seq;
            SELECT position, type, subject, claim_id, time, actor, data::text AS data
            FROM events
            WHERE {conditions} AND position <= (SELECT last_value FROM events_position_seq)
            ORDER BY position
            LIMIT @limit;
            SELECT through, (SELECT position FROM events WHERE position > through ORDER BY position LIMIT 1) AS oldest_kept
            FROM events_purged
            WHERE @after > 0 AND @after < through
            """,
            new { after, limit, types = filter.Types.Select(t => t.ToName()).ToArray(), claimId = filter.ClaimId },
            cancellationToken: ct));
        await results.ReadAsync<object>();
        // The lock keeps new writers from taking a number, so this is the last value the read below compares with.
        var horizon = await results.ReadSingleAsync<long>();
        var rows = await results.ReadAsync<Row>();
        var purged = await results.ReadSingleOrDefaultAsync<PurgeRow>();
        return new EventRead([.. rows.Select(r => new StoredEvent(r.Position, EnumNames<EventType>.Parse(r.Type), r.Subject, r.ClaimId, r.Time, r.Actor, r.Data))], horizon)
        {
            Purged = purged is null ? null : new PurgedEvents(after, purged.Through, purged.OldestKept),
        };
    }
}

/// <summary>
/// Appends events in the transaction of the change they record: all of a write's events in one
/// statement, which must be the write's LAST statement before COMMIT, because it takes the lock
/// (shared with other writers) that readers wait on, and holds it until the transaction ends
/// (db/0006_events.sql).
/// </summary>
public sealed class EventLog(IOptions<JsonOptions> json, IOptions<EventsOptions> events)
{
    public Task AppendAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string? actor, NewEvent change, CancellationToken ct) =>
        AppendAsync(connection, transaction, actor, [change], ct);

    public async Task AppendAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string? actor, IReadOnlyList<NewEvent> changes, CancellationToken ct)
    {
        if (changes.Count == 0 || !events.Value.Write)
        {
            return;
        }

        var options = json.Value.SerializerOptions;
        // WITH ORDINALITY keeps the given order, so that a claim.created precedes its evidence.added.
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO events (type, subject, claim_id, actor, data)
            SELECT e.type, e.subject, e.claim_id, @actor, e.data::jsonb
            FROM unnest(@types::text[], @subjects::uuid[], @claimIds::uuid[], @data::text[]) WITH ORDINALITY AS e (type, subject, claim_id, data, n)
            ORDER BY e.n
            """,
            new
            {
                actor,
                types = changes.Select(c => c.Type.ToName()).ToArray(),
                subjects = changes.Select(c => c.Subject).ToArray(),
                claimIds = changes.Select(c => c.ClaimId).ToArray(),
                data = changes.Select(c => JsonSerializer.Serialize(c.Data, c.Data.GetType(), options)).ToArray(),
            },
            transaction, cancellationToken: ct));
    }
}
