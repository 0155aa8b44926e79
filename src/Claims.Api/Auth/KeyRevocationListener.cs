using System.Data;
using Npgsql;

namespace Claims.Api.Auth;

/// <summary>
/// Holds one connection that listens for the database's notices of changed keys
/// (db/0005_key_revocation.sql) and forgets each such key at once, so that a key revoked on any
/// instance, or by hand in SQL, is refused here within moments rather than when its cache entry
/// runs out. While it is not listening, <see cref="KeyCache"/> keeps no found keys.
/// </summary>
public sealed class KeyRevocationListener(NpgsqlDataSource db, KeyCache cache, ILogger<KeyRevocationListener> logger) : BackgroundService
{
    public const string Channel = "api_key_changed";

    /// <summary>Begins the listener's statements, so that pg_stat_activity shows which backend it is.</summary>
    public const string Tag = "/* Claims API key listener */";

    // Waiting for a notification sends nothing, so a connection that died without a word (a
    // dropped network path) would look alive for ever: a query this often finds out. The
    // connection string's Keepalive would do the same for every pooled connection; this is the
    // only one that idles on purpose.
    private static readonly TimeSpan KeepaliveEvery = TimeSpan.FromSeconds(5);
    private const int KeepaliveTimeoutSeconds = 2;

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(5);

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
                        logger.LogInformation("Listening for API key changes again after {Seconds:0.0} s", (DateTime.UtcNow - since).TotalSeconds);
                    }
                    else
                    {
                        logger.LogInformation("Listening for API key changes on channel {Channel}", Channel);
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
                    logger.LogWarning(e, "Not listening for API key changes ({Reason}); until it is back, keys are checked in the database on every request", e.Message);
                }
                else
                {
                    logger.LogDebug(e, "Still not listening for API key changes");
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
        connection.Notification += OnNotification;
        try
        {
            await ExecuteAsync(connection, $"{Tag} LISTEN {Channel}", timeoutSeconds: null, ct);
            cache.SetListening(true);
            onListening();
            while (true)
            {
                if (!await connection.WaitAsync(KeepaliveEvery, ct))
                {
                    await ExecuteAsync(connection, $"{Tag} SELECT 1", KeepaliveTimeoutSeconds, ct);
                }
            }
        }
        finally
        {
            cache.SetListening(false);
            connection.Notification -= OnNotification;
            await StopListeningAsync(connection);
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (e.Payload.Length == 0)
        {
            cache.ForgetAll();
        }
        else
        {
            cache.Forget(e.Payload.ToLowerInvariant());
        }
    }

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
