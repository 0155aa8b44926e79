using System.Data;
using Npgsql;

namespace Claims.Api.Data;

/// <summary>
/// Holds one connection that LISTENs on a PostgreSQL channel for as long as the app runs, and
/// connects again, with jittered backoff, whenever that connection is lost. Derived listeners say
/// what the notices mean; the app carries on without them while the listener is down.
/// </summary>
/// <param name="db">Where the listening connection comes from; it is not returned to the pool while listening.</param>
/// <param name="logger">Says when listening starts, stops and starts again.</param>
/// <param name="channel">The channel listened on.</param>
/// <param name="tag">Begins the listener's statements, so that pg_stat_activity shows which backend it is.</param>
/// <param name="subject">What the notices are about, for the log: "API key changes".</param>
/// <param name="whileDown">How the app copes while not listening, for the warning when the connection is lost.</param>
public abstract class NotificationListener(NpgsqlDataSource db, ILogger logger, string channel, string tag, string subject, string whileDown) : BackgroundService
{
    // Waiting for a notification sends nothing, so a connection that died without a word (a
    // dropped network path) would look alive for ever: a query this often finds out. The
    // connection string's Keepalive would do the same for every pooled connection; this is the
    // only kind that idles on purpose.
    private static readonly TimeSpan KeepaliveEvery = TimeSpan.FromSeconds(5);
    private const int KeepaliveTimeoutSeconds = 2;

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(5);

    /// <summary>Called on the connection's thread for each notice; must be quick.</summary>
    protected abstract void OnNotification(string payload);

    /// <summary>Called with true once LISTEN took effect, and with false when the connection is lost.</summary>
    protected virtual void OnListening(bool listening)
    {
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retry = FirstRetry;
        DateTime? downSince = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken, onListening: () =>
                {
                    if (downSince is { } since)
                    {
                        logger.LogInformation("Listening for {Subject} again after {Seconds:0.0} s", subject, (DateTime.UtcNow - since).TotalSeconds);
                    }
                    else
                    {
                        logger.LogInformation("Listening for {Subject} on channel {Channel}", subject, channel);
                    }

                    downSince = null;
                    retry = FirstRetry;
                });
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Whatever went wrong, the API goes on without the listener rather than stopping.
                // Once per outage: the database being away is already loud elsewhere (503s, health).
                if (downSince is null)
                {
                    downSince = DateTime.UtcNow;
                    logger.LogWarning(e, "Not listening for {Subject} ({Reason}); until it is back, {WhileDown}", subject, e.Message, whileDown);
                }
                else
                {
                    logger.LogDebug(e, "Still not listening for {Subject}", subject);
                }
            }

            try
            {
                // Jittered, so that instances that lost the database together do not return in step.
                await Task.Delay(retry * (0.75 + Random.Shared.NextDouble() / 2), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LongestRetry.Ticks));
        }
    }

    /// <summary>Listens until the connection fails or the app stops; returns only by throwing.</summary>
    private async Task ListenAsync(CancellationToken ct, Action onListening)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        connection.Notification += Notified;
        try
        {
            await ExecuteAsync(connection, $"{tag} LISTEN {channel}", timeoutSeconds: null, ct);
            OnListening(true);
            onListening();
            while (true)
            {
                if (!await connection.WaitAsync(KeepaliveEvery, ct))
                {
                    await ExecuteAsync(connection, $"{tag} SELECT 1", KeepaliveTimeoutSeconds, ct);
                }
            }
        }
        finally
        {
            OnListening(false);
            connection.Notification -= Notified;
            await StopListeningAsync(connection);
        }
    }

    private void Notified(object sender, NpgsqlNotificationEventArgs e) => OnNotification(e.Payload);

    /// <summary>
    /// The pool does not reset connections (Database.WithTimeouts), so one that goes back still
    /// listening would keep receiving every notice. A broken connection is not pooled again.
    /// </summary>
    private static async Task StopListeningAsync(NpgsqlConnection connection)
    {
        if (connection.FullState != ConnectionState.Open)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(KeepaliveTimeoutSeconds));
            await ExecuteAsync(connection, "UNLISTEN *", KeepaliveTimeoutSeconds, timeout.Token);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException or InvalidOperationException)
        {
            // The connection is being dropped anyway.
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, int? timeoutSeconds, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (timeoutSeconds is { } seconds)
        {
            command.CommandTimeout = seconds;
        }

        await command.ExecuteNonQueryAsync(ct);
    }
}
