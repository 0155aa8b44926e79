using System.Text.Json;
using Claims.Api.Data;
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
/// visible in increasing order (see db/0010_event_sequencer.sql), so a reader that asks for what
/// follows the last position it saw never misses an event and never sees one twice.
/// </summary>
public static class EventStore
{
    /// <summary>Begins the read's statement, so that the database's activity views tell it apart.</summary>
    public const string Tag = "/* Claims events read */";

    // The horizon and the purge's watermark come with every row, and alone (the other columns null) when no event follows.
    private sealed record Row(long Horizon, long PurgedThrough, long? OldestKept, long? Position, string? Type, Guid? Subject, Guid? ClaimId, DateTime? Time, string? Actor, string? Data);

    /// <summary>The highest position numbered so far (0 when there is none): where a stream that starts now begins.</summary>
    public static async Task<long> NewestPositionAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"{Tag} SELECT coalesce(max(position), 0) FROM events", cancellationToken: ct));
    }

    /// <summary>
    /// Up to <paramref name="limit"/> events after position <paramref name="after"/> that pass
    /// <paramref name="filter"/>, oldest first; or, when events after <paramref name="after"/> were
    /// purged, that instead (<see cref="EventRead.Purged"/>). After 0 means from the oldest event
    /// kept and is never refused.
    /// </summary>
    public static Task<EventRead> ReadAsync(NpgsqlDataSource db, EventFilter filter, long after, int limit, CancellationToken ct) =>
        ReadToHorizonAsync(db, filter, after, limit, ct);

    /// <summary>
    /// The events as <see cref="ReadAsync"/> reads them, and the horizon of the read: the highest
    /// position numbered when it read. When fewer than <paramref name="limit"/> events come back,
    /// every event up to the horizon that passes the filter is among them, so a reader that
    /// filters (a webhook's fan-out) may move on to the horizon, past the events it does not want.
    /// </summary>
    public static async Task<EventRead> ReadToHorizonAsync(NpgsqlDataSource db, EventFilter filter, long after, int limit, CancellationToken ct)
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

        await using var connection = await db.OpenConnectionAsync(ct);
        // One statement, so one snapshot: the horizon is the highest position among the events
        // this read can see, and no event numbered later can fall below it; and the purge's
        // watermark is the one of the events read, so a purge is either wholly before the read
        // (and reported when it passed the reader's position) or wholly after (and the events
        // read are all there were).
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition(
            $"""
            {Tag} SELECT h.horizon, h.purged_through, h.oldest_kept, e.position, e.type, e.subject, e.claim_id, e.time, e.actor, e.data
            FROM (
                SELECT (SELECT coalesce(max(position), 0) FROM events) AS horizon,
                       p.through AS purged_through,
                       (SELECT position FROM events WHERE position > p.through ORDER BY position LIMIT 1) AS oldest_kept
                FROM events_purged p
            ) AS h
            LEFT JOIN LATERAL (
                SELECT position, type, subject, claim_id, time, actor, data::text AS data
                FROM events
                WHERE {conditions}
                ORDER BY position
                LIMIT @limit
            ) AS e ON true
            ORDER BY e.position
            """,
            new { after, limit, types = filter.Types.Select(t => t.ToName()).ToArray(), claimId = filter.ClaimId },
            cancellationToken: ct))).AsList();
        var first = rows[0];
        var events = rows.Where(r => r.Position is not null)
            .Select(r => new StoredEvent(r.Position!.Value, EnumNames<EventType>.Parse(r.Type!), r.Subject!.Value, r.ClaimId, r.Time!.Value, r.Actor, r.Data!))
            .ToList();
        return new EventRead(events, first.Horizon)
        {
            Purged = after > 0 && after < first.PurgedThrough ? new PurgedEvents(after, first.PurgedThrough, first.OldestKept) : null,
        };
    }
}

/// <summary>
/// Appends events in the transaction of the change they record, to the outbox: a plain insert
/// that waits on nothing. Once the change commits, the instance's <see cref="EventSequencer"/>
/// gives them positions (db/0010_event_sequencer.sql).
/// </summary>
public sealed class EventLog(IOptions<JsonOptions> json, IOptions<EventsOptions> events, EventSequencer sequencer)
{
    public Task AppendAsync(Commit commit, string? actor, NewEvent change, CancellationToken ct) =>
        AppendAsync(commit, actor, [change], ct);

    public async Task AppendAsync(Commit commit, string? actor, IReadOnlyList<NewEvent> changes, CancellationToken ct)
    {
        var parameters = new DynamicParameters();
        if (Statement(commit, actor, changes, parameters) is { Length: > 0 } sql)
        {
            await commit.Connection.ExecuteAsync(new CommandDefinition(sql, parameters, commit.Transaction, cancellationToken: ct));
        }
    }

    /// <summary>
    /// The statement that appends <paramref name="changes"/>, for a write that sends it in the same
    /// command as its own last statement, saving the round trip of <see cref="AppendAsync(Commit, string?, IReadOnlyList{NewEvent}, CancellationToken)"/>;
    /// adds its parameters (all named event…) to <paramref name="parameters"/>. Empty when there
    /// is nothing to append.
    /// </summary>
    public string Statement(Commit commit, string? actor, IReadOnlyList<NewEvent> changes, DynamicParameters parameters)
    {
        if (changes.Count == 0 || !events.Value.Write)
        {
            return "";
        }

        var options = json.Value.SerializerOptions;
        parameters.Add("eventActor", actor);
        parameters.Add("eventTypes", changes.Select(c => c.Type.ToName()).ToArray());
        parameters.Add("eventSubjects", changes.Select(c => c.Subject).ToArray());
        parameters.Add("eventClaimIds", changes.Select(c => c.ClaimId).ToArray());
        parameters.Add("eventData", changes.Select(c => JsonSerializer.Serialize(c.Data, c.Data.GetType(), options)).ToArray());
        commit.OnCommitted(sequencer.Wake);
        // WITH ORDINALITY keeps the given order, so that a claim.created precedes its evidence.added.
        return """
            INSERT INTO event_outbox (type, subject, claim_id, actor, data)
            SELECT e.type, e.subject, e.claim_id, @eventActor, e.data::jsonb
            FROM unnest(@eventTypes::text[], @eventSubjects::uuid[], @eventClaimIds::uuid[], @eventData::text[]) WITH ORDINALITY AS e (type, subject, claim_id, data, n)
            ORDER BY e.n;
            """;
    }
}
