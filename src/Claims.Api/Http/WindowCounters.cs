using System.Collections.Concurrent;
using Npgsql;

namespace Claims.Api.Http;

/// <summary>What a counter gave: permits taken now, all permits taken in the window so far (by every instance), and when the window ends.</summary>
/// <param name="Granted">Permits taken by this call; 0 once the window is used up.</param>
/// <param name="Taken">Permits taken in the window by everyone, this call included.</param>
/// <param name="EndsIn">Time left until the window ends and every permit is back.</param>
internal readonly record struct Grant(int Granted, int Taken, TimeSpan EndsIn);

/// <summary>Where the permits of one caller's window in one policy are counted.</summary>
internal interface IWindowCounter
{
    /// <summary>Takes up to <paramref name="wanted"/> permits from the window, fewer as it runs out.</summary>
    ValueTask<Grant> TakeAsync(string policy, string caller, int quota, int wanted, CancellationToken ct);

    /// <summary>How many permits an instance asks for at once: the fewer, the closer the count, the more often it asks.</summary>
    int BatchFor(int quota);

    /// <summary>Forgets windows that ended a while ago.</summary>
    Task SweepAsync(CancellationToken ct);
}

/// <summary>
/// Counts in this process only: each instance gives every caller the whole quota. A window opens
/// with the caller's first request and lasts <see cref="RateLimitPolicies.Window"/>. Used when
/// RateLimiting:Shared is false, and by <see cref="SharedWindowCounter"/> while the database
/// cannot be reached.
/// </summary>
internal sealed class LocalWindowCounter(TimeProvider time) : IWindowCounter
{
    private readonly ConcurrentDictionary<(string Policy, string Caller), Window> _windows = new();

    public int BatchFor(int quota) => quota;

    public ValueTask<Grant> TakeAsync(string policy, string caller, int quota, int wanted, CancellationToken ct)
    {
        var window = _windows.GetOrAdd((policy, caller), static _ => new Window());
        var now = time.GetTimestamp();
        lock (window)
        {
            if (window.Opened == 0 || time.GetElapsedTime(window.Opened, now) >= RateLimitPolicies.Window)
            {
                window.Opened = now;
                window.Taken = 0;
            }

            var granted = Math.Clamp(quota - window.Taken, 0, wanted);
            window.Taken += granted;
            return ValueTask.FromResult(new Grant(granted, window.Taken, RateLimitPolicies.Window - time.GetElapsedTime(window.Opened, now)));
        }
    }

    public Task SweepAsync(CancellationToken ct)
    {
        var now = time.GetTimestamp();
        foreach (var (key, window) in _windows)
        {
            if (time.GetElapsedTime(window.Opened, now) >= 2 * RateLimitPolicies.Window)
            {
                _windows.TryRemove(KeyValuePair.Create(key, window));
            }
        }

        return Task.CompletedTask;
    }

    private sealed class Window
    {
        public long Opened;
        public int Taken;
    }
}

/// <summary>
/// Counts in PostgreSQL (db/0021_rate_limit_windows.sql), so that a caller's quota is the quota
/// however many instances serve it. Windows are the database clock's minutes. An instance takes a
/// batch of permits per statement and spends them from memory; each statement takes at most an
/// eighth of what is left, so that as the window runs out the batches shrink and the permits that
/// other instances hold unspent stay few. When the database cannot be reached each instance
/// counts by itself (<see cref="LocalWindowCounter"/>): a caller may then get the quota once per
/// instance, which is better than refusing everyone or no limit at all.
/// </summary>
internal sealed class SharedWindowCounter(NpgsqlDataSource db, LocalWindowCounter fallback, ILogger<SharedWindowCounter> logger) : IWindowCounter
{
    private const string Take =
        """
        WITH minute AS (SELECT date_trunc('minute', clock_timestamp()) AS starts_at)
        INSERT INTO rate_limit_windows AS w (caller, policy, starts_at, taken, last_taken)
        SELECT @caller, @policy, minute.starts_at, @first, @first FROM minute
        ON CONFLICT (caller, policy, starts_at) DO UPDATE
            SET last_taken = LEAST(@wanted, GREATEST(0, @quota - w.taken), GREATEST(1, (@quota - w.taken) / 8)),
                taken = w.taken + LEAST(@wanted, GREATEST(0, @quota - w.taken), GREATEST(1, (@quota - w.taken) / 8))
        RETURNING last_taken, taken, extract(epoch FROM starts_at + interval '1 minute' - clock_timestamp())::float8
        """;

    private long _warned;

    // A fortieth of the quota (15 of 600): a statement every 15 requests of a busy caller, and
    // with the eighth-of-the-rest rule fewer than 2% of the quota left unspent on other instances
    // when one of them refuses. At most 100, so that a large quota is still counted often.
    public int BatchFor(int quota) => Math.Clamp(quota / 40, 1, 100);

    public async ValueTask<Grant> TakeAsync(string policy, string caller, int quota, int wanted, CancellationToken ct)
    {
        try
        {
            await using var command = db.CreateCommand(Take);
            command.Parameters.AddWithValue("caller", caller);
            command.Parameters.AddWithValue("policy", policy);
            command.Parameters.AddWithValue("quota", quota);
            command.Parameters.AddWithValue("wanted", wanted);
            command.Parameters.AddWithValue("first", Math.Min(wanted, Math.Max(1, quota / 8)));
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            return new Grant(reader.GetInt32(0), reader.GetInt32(1), TimeSpan.FromSeconds(Math.Max(0, reader.GetDouble(2))));
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            // Once a minute at most: while the database is down every batch would say it again.
            var now = Environment.TickCount64;
            var last = Interlocked.Read(ref _warned);
            if (now - last > 60_000 && Interlocked.CompareExchange(ref _warned, now, last) == last)
            {
                logger.LogWarning(e, "The shared rate-limit counts cannot be reached; this instance counts callers by itself until they can");
            }

            return await fallback.TakeAsync(policy, caller, quota, quota, ct);
        }
    }

    public async Task SweepAsync(CancellationToken ct)
    {
        await fallback.SweepAsync(ct);
        await using var command = db.CreateCommand("DELETE FROM rate_limit_windows WHERE starts_at < clock_timestamp() - interval '2 minutes'");
        await command.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>Every minute, forgets the windows that ended: the counter's, and the allowances instances hold for idle callers.</summary>
internal sealed class RateLimitSweep(RateLimitPolicies policies, ILogger<RateLimitSweep> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RateLimitPolicies.Window);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await policies.SweepAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not forget past rate-limit windows; will try again in a minute");
            }
        }
    }
}
