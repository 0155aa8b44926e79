using System.Text.Json;
using Claims.Api.Json;
using Dapper;
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
public sealed record EventRead(IReadOnlyList<StoredEvent> Events, long Horizon);

/// <summary>
/// Reads the events table in position order, for the feed and the live stream. Positions become
/// visible in increasing order (see db/0006_events.sql), so a reader that asks for what follows
/// the last position it saw never misses an event and never sees one twice.
/// </summary>
public static class EventStore
{
    private sealed record Row(long Position, string Type, Guid Subject, Guid? ClaimId, DateTime Time, string? Actor, string Data);

    /// <summary>Up to <paramref name="limit"/> events after position <paramref name="after"/> that pass <paramref name="filter"/>, oldest first.</summary>
    public static async Task<IReadOnlyList<StoredEvent>> ReadAsync(NpgsqlDataSource db, EventFilter filter, long after, int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await ReadAsync(connection, filter, after, limit, ct);
    }

    /// <inheritdoc cref="ReadAsync(NpgsqlDataSource, EventFilter, long, int, CancellationToken)"/>
    public static async Task<IReadOnlyList<StoredEvent>> ReadAsync(NpgsqlConnection connection, EventFilter filter, long after, int limit, CancellationToken ct) =>
        (await ReadCoreAsync(connection, filter, after, limit, ct)).Events;

    /// <summary>
    /// The events as <see cref="ReadAsync(NpgsqlDataSource, EventFilter, long, int, CancellationToken)"/>
    /// reads them, and the horizon of the read: the last position handed out when it read, every
    /// one up to there finished. When fewer than <paramref name="limit"/> events come back, every
    /// event up to the horizon that passes the filter is among them, so a reader that filters
    /// (a webhook's fan-out) may move on to the horizon, past the events it does not want.
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
        // positions that the sequence had handed out by then.
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            $"""
            SELECT pg_advisory_xact_lock(7274, 12);
            SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_position_seq;
            SELECT position, type, subject, claim_id, time, actor, data::text AS data
            FROM events
            WHERE {conditions} AND position <= (SELECT last_value FROM events_position_seq)
            ORDER BY position
            LIMIT @limit
            """,
            new { after, limit, types = filter.Types.Select(t => t.ToName()).ToArray(), claimId = filter.ClaimId },
            cancellationToken: ct));
        await results.ReadAsync<object>();
        // The lock keeps new writers from taking a number, so this is the last value the read below compares with.
        var horizon = await results.ReadSingleAsync<long>();
        var rows = await results.ReadAsync<Row>();
        return new EventRead([.. rows.Select(r => new StoredEvent(r.Position, EnumNames<EventType>.Parse(r.Type), r.Subject, r.ClaimId, r.Time, r.Actor, r.Data))], horizon);
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
