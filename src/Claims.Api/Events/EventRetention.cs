using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Events;

public sealed class EventsOptions
{
    /// <summary>How long events are kept for the feed, the stream and webhooks, in days (default 30).</summary>
    public int RetentionDays { get; set; } = 30;

    /// <summary>How often the purge runs, in seconds (default an hour).</summary>
    public int PurgeIntervalSeconds { get; set; } = 3600;

    /// <summary>
    /// Whether writes record their events (default true). Off only to measure what the outbox
    /// costs: the benchmark compares the same build both ways. Off, the feed, the stream and
    /// webhooks see nothing.
    /// </summary>
    public bool Write { get; set; } = true;

    /// <summary>
    /// Whether numbering events notifies listeners (default true). Off only to show that streams
    /// and webhooks still get every event from their catch-up reads when notices are lost.
    /// </summary>
    public bool Notify { get; set; } = true;
}

/// <summary>
/// Deletes events older than <see cref="EventsOptions.RetentionDays"/>, in batches, so that a
/// backlog (a first run after weeks) never holds one long transaction or a lock on many rows.
/// </summary>
public sealed class EventRetention(NpgsqlDataSource db, IOptions<EventsOptions> options, ILogger<EventRetention> logger) : BackgroundService
{
    public const int BatchSize = 5000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.PurgeIntervalSeconds));
        do
        {
            try
            {
                var purged = await PurgeAsync(db, TimeSpan.FromDays(options.Value.RetentionDays), stoppingToken);
                if (purged > 0)
                {
                    logger.LogInformation("Purged {Count} events older than {Days} days", purged, options.Value.RetentionDays);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not purge old events; will try again at the next interval");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>
    /// Deletes the events older than <paramref name="keepFor"/>, a batch per statement; returns how many.
    /// It deletes only a run of the oldest positions, up to the first event still to keep: the
    /// watermark (db/0008_events_purge_watermark.sql), the highest position deleted, is then
    /// exactly where the feed now begins, with nothing kept below it. (Purging by time alone
    /// could leave an event below it, positions only nearly following time, and a client paging
    /// from 0 would be refused past it for events purged before it began.) An old event after the
    /// first one to keep waits for the next run. Each batch moves the watermark in its own
    /// statement, so no reader sees a batch gone without the watermark that tells it so.
    /// </summary>
    public static async Task<int> PurgeAsync(NpgsqlDataSource db, TimeSpan keepFor, CancellationToken ct)
    {
        long keepFrom;
        await using (var connection = await db.OpenConnectionAsync(ct))
        {
            // Walks the primary key from the oldest position through the events to delete: once a
            // run, not once a batch, since a backlog may be long.
            keepFrom = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                """
                SELECT COALESCE(
                    (SELECT position FROM events WHERE time >= clock_timestamp() - @keepFor ORDER BY position LIMIT 1),
                    9223372036854775807)
                """,
                new { keepFor }, cancellationToken: ct));
        }

        var total = 0;
        int deleted;
        do
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // The time condition only guards: every position below keepFrom was old when it was
            // found, and a new event always takes a greater one. The update's WHERE keeps the
            // watermark from moving back when two instances purge at once.
            deleted = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                """
                WITH purged AS (
                    DELETE FROM events WHERE position IN (
                        SELECT position FROM events
                        WHERE position < @keepFrom AND time < clock_timestamp() - @keepFor
                        ORDER BY position LIMIT @batch)
                    RETURNING position),
                watermark AS (
                    UPDATE events_purged SET through = (SELECT max(position) FROM purged)
                    WHERE through < (SELECT max(position) FROM purged))
                SELECT count(*)::int FROM purged
                """,
                new { keepFor, keepFrom, batch = BatchSize }, cancellationToken: ct));
            total += deleted;
        }
        while (deleted == BatchSize);

        return total;
    }
}

public static class EventsSetup
{
    public static IServiceCollection AddEvents(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EventsOptions>().Bind(configuration.GetSection("Events"))
            .Validate(o => o.RetentionDays >= 1, "Events:RetentionDays must be at least 1.")
            .Validate(o => o.PurgeIntervalSeconds >= 1, "Events:PurgeIntervalSeconds must be at least 1.")
            .ValidateOnStart();
        services.AddSingleton<EventLog>();
        services.AddSingleton<EventSequencer>();
        services.AddHostedService(provider => provider.GetRequiredService<EventSequencer>());
        services.AddHostedService<EventRetention>();
        return services;
    }
}
