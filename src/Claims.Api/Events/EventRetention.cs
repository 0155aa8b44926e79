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

    /// <summary>Deletes the events older than <paramref name="keepFor"/>, a batch per statement; returns how many.</summary>
    public static async Task<int> PurgeAsync(NpgsqlDataSource db, TimeSpan keepFor, CancellationToken ct)
    {
        var total = 0;
        int deleted;
        do
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // Oldest first by time, which the time index serves; positions follow time closely enough.
            deleted = await connection.ExecuteAsync(new CommandDefinition(
                """
                DELETE FROM events WHERE position IN (
                    SELECT position FROM events WHERE time < clock_timestamp() - @keepFor ORDER BY time LIMIT @batch)
                """,
                new { keepFor, batch = BatchSize }, cancellationToken: ct));
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
