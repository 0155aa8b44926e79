using System.Diagnostics;
using System.Threading.Channels;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Events;

/// <summary>
/// Gives committed events their positions: moves the rows writers appended to event_outbox into
/// events, numbered from the sequence, and notifies listeners of the highest, in one transaction
/// under an exclusive advisory lock (db/0010_event_sequencer.sql says why this orders the feed).
/// Every instance runs one. It runs when a write of this instance commits (<see cref="Wake"/>),
/// right away again while it finds a full batch, and every Events:CatchUpSeconds in any case, so
/// that events whose instance died between its COMMIT and its run are numbered by the others.
/// Wakes that arrive during a run make one more run, no sooner than <see cref="Spacing"/> after
/// its start: under load, runs carry many events each.
/// </summary>
public sealed class EventSequencer(NpgsqlDataSource db, IOptions<EventsOptions> events, IOptions<EventStreamOptions> stream, ILogger<EventSequencer> logger) : BackgroundService
{
    /// <summary>Events moved per run: one run's transaction stays short even after a backlog.</summary>
    public const int BatchSize = 1000;

    /// <summary>The least time from the start of a run to the start of the next.</summary>
    public static readonly TimeSpan Spacing = TimeSpan.FromMilliseconds(10);

    /// <summary>Begins each of the sequencer's statements, so that the database's activity views tell them apart.</summary>
    public const string Tag = "/* Claims event sequencer */";

    private readonly Channel<bool> _wakes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Asks for a run soon: a write of this instance committed events. Never blocks.</summary>
    public void Wake() => _wakes.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sweep = TimeSpan.FromSeconds(stream.Value.CatchUpSeconds);
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var started = Stopwatch.GetTimestamp();
                while (await SequenceAsync(db, events.Value.Notify, stoppingToken) == BatchSize)
                {
                }

                // Under a stream of writes, a run at each commit would wake every stream and webhook
                // worker of every instance as often, each to read a few events: runs at most this
                // often carry more events each, for a few milliseconds more latency. A wake after a
                // quiet spell runs at once.
                var since = Stopwatch.GetElapsedTime(started);
                if (since < Spacing)
                {
                    await Task.Delay(Spacing - since, stoppingToken);
                }

                if (failing)
                {
                    logger.LogInformation("Numbering events again");
                    failing = false;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Appended events wait in the outbox meanwhile: they are delayed, never lost.
                if (!failing)
                {
                    logger.LogWarning(e, "Could not number new events ({Reason}); trying again every {Seconds} s", e.Message, sweep.TotalSeconds);
                    failing = true;
                }
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(sweep);
            try
            {
                await _wakes.Reader.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // The sweep's turn.
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// One run: numbers up to <see cref="BatchSize"/> committed outbox rows, oldest first, and
    /// when it numbered any and <paramref name="notify"/> is set, tells listeners the highest
    /// position. Returns how many it numbered. Safe to call from anywhere at any time: runs wait
    /// for one another.
    /// </summary>
    public static async Task<int> SequenceAsync(NpgsqlDataSource db, bool notify, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        // One round trip, one implicit transaction. The lock is taken by a statement of its own, so
        // that the next statement's snapshot sees what the previous run committed; the NOTIFY is
        // sent at this COMMIT, with the positions, or not at all.
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            $"""
            {Tag} SELECT pg_advisory_xact_lock(7274, 12);
            {Tag} WITH moved AS (
                DELETE FROM event_outbox WHERE id IN (SELECT id FROM event_outbox ORDER BY id LIMIT @batch)
                RETURNING id, type, subject, claim_id, time, actor, data
            ), placed AS (
                INSERT INTO events (position, type, subject, claim_id, time, actor, data)
                SELECT nextval('events_position_seq'), m.type, m.subject, m.claim_id, m.time, m.actor, m.data
                FROM (SELECT * FROM moved ORDER BY id) AS m
                RETURNING position
            ), run AS (
                SELECT count(*)::int AS moved, max(position) AS last FROM placed
            )
            SELECT run.moved, CASE WHEN @notify AND run.moved > 0 THEN pg_notify('{EventNotifications.Channel}', run.last::text) END::text AS notified
            FROM run;
            """,
            new { batch = BatchSize, notify }, cancellationToken: ct));
        await results.ReadAsync<object>();
        return (await results.ReadSingleAsync<(int Moved, string? Notified)>()).Moved;
    }
}
