using System.Diagnostics;
using System.Diagnostics.Metrics;
using Claims.Api.Http;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Claims.Api.Data;

/// <summary>
/// Where reads go: to the streaming replica named by ConnectionStrings:ClaimsReplica when there is
/// one and it can answer, else to the primary. A read whose caller sent a Consistency-Token (the
/// WAL position a write answer gave) goes to the replica only once the replica has replayed that
/// position, waiting for it at most Database:ReplicaWaitMilliseconds, and otherwise to the primary:
/// so a client always reads its own writes. A read without a token may see the replica's past, at
/// most Database:ReplicaMaxLagSeconds behind; a replica further behind, unreachable, or not a
/// standby at all is left alone until it catches up, and its reads go to the primary.
/// <see cref="ReplicaWatch"/> keeps what this knows of the replica current.
/// </summary>
public sealed class Reads : IDisposable
{
    public const string ReplicaConnectionStringName = "ClaimsReplica";
    public const string MeterName = "Claims.Reads";

    private readonly NpgsqlDataSource _primary;
    private readonly NpgsqlDataSource? _replica;
    private readonly TimeSpan _wait;
    private readonly TimeSpan _maxLag;
    private readonly ILogger<Reads> _logger;
    private readonly Counter<long> _served;
    private readonly KeyValuePair<string, object?> _byReplica = new("claims.db.server", "replica");
    private readonly KeyValuePair<string, object?> _byPrimary = new("claims.db.server", "primary");
    private volatile bool _up;
    private long _replayed;
    private long _lagTicks;
    private TaskCompletionSource _advanced = NewSignal();

    public Reads(NpgsqlDataSource primary, IConfiguration configuration, IOptions<DatabaseOptions> options, IMeterFactory meters, ILogger<Reads> logger)
    {
        _primary = primary;
        _logger = logger;
        _wait = TimeSpan.FromMilliseconds(options.Value.ReplicaWaitMilliseconds);
        _maxLag = TimeSpan.FromSeconds(options.Value.ReplicaMaxLagSeconds);
        if (configuration.GetConnectionString(ReplicaConnectionStringName) is { Length: > 0 } replica)
        {
            _replica = NpgsqlDataSource.Create(Database.WithTimeouts(replica));
        }

        var meter = meters.Create(MeterName);
        _served = meter.CreateCounter<long>("claims.db.reads", description: "Reads served, by the server that answered them: the replica or the primary.");
        meter.CreateObservableGauge<double>("claims.replica.lag", () => _replica is null ? [] : [new Measurement<double>(Lag.TotalSeconds)], "s",
            "How far the replica's replay is behind the primary, as last seen.");
        meter.CreateObservableGauge<int>("claims.replica.up", () => _replica is null ? [] : [new Measurement<int>(_up ? 1 : 0)],
            description: "1 while the replica answers and is a standby, else 0.");
    }

    /// <summary>Whether a replica is configured; without one every read goes to the primary and writes give no Consistency-Token.</summary>
    public bool HasReplica => _replica is not null;

    /// <summary>The replica's connections, for <see cref="ReplicaWatch"/>.</summary>
    internal NpgsqlDataSource? Replica => _replica;

    internal NpgsqlDataSource Primary => _primary;

    /// <summary>How far behind the primary the replica was at the last look.</summary>
    public TimeSpan Lag => TimeSpan.FromTicks(Interlocked.Read(ref _lagTicks));

    /// <summary>
    /// A connection for a read: to the replica when it can answer this caller (see the class), else
    /// to the primary. The same for every statement of the request, so that they see one state.
    /// </summary>
    public async ValueTask<NpgsqlConnection> OpenAsync(HttpContext http, CancellationToken ct)
    {
        if (_replica is not null && await ReplicaCanAnswerAsync(ConsistencyTokens.Sent(http), ct))
        {
            try
            {
                var connection = await _replica.OpenConnectionAsync(ct);
                _served.Add(1, _byReplica);
                return connection;
            }
            catch (NpgsqlException e) when (!ct.IsCancellationRequested && e.InnerException is not TimeoutException)
            {
                // Not waiting for the watch's next look: this read and the next go to the primary.
                // (A full pool is not a lost replica: that read goes to the primary alone.)
                ReplicaLost(e);
            }
            catch (NpgsqlException) when (!ct.IsCancellationRequested)
            {
                // The replica's pool stayed full for the connection timeout: the primary answers this one.
            }
        }

        var primary = await _primary.OpenConnectionAsync(ct);
        _served.Add(1, _byPrimary);
        return primary;
    }

    /// <summary>The primary's WAL position now: after a write's commit, a position that covers it.</summary>
    public async Task<NpgsqlLogSequenceNumber> PositionAsync(CancellationToken ct)
    {
        await using var command = _primary.CreateCommand("SELECT pg_current_wal_insert_lsn()");
        return (NpgsqlLogSequenceNumber)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>What <see cref="ReplicaWatch"/> saw: the position replayed and the lag, or nothing (the replica is lost).</summary>
    internal void Observed(NpgsqlLogSequenceNumber? replayed, TimeSpan lag)
    {
        if (replayed is null)
        {
            _up = false;
            return;
        }

        Interlocked.Exchange(ref _replayed, (long)(ulong)replayed.Value);
        Interlocked.Exchange(ref _lagTicks, lag.Ticks);
        if (!_up)
        {
            _logger.LogInformation("The read replica answers again: reads go to it");
        }

        _up = true;
        Interlocked.Exchange(ref _advanced, NewSignal()).TrySetResult();
    }

    internal void ReplicaLost(Exception e)
    {
        if (_up)
        {
            _logger.LogWarning(e, "The read replica cannot be reached: reads go to the primary until it answers again");
        }

        _up = false;
        Interlocked.Exchange(ref _advanced, NewSignal()).TrySetResult();
        // The idle connections to a server that went away are dead too; left in the pool, each
        // look after its return would draw one and fail, a second apiece.
        _replica?.Clear();
    }

    public void Dispose() => _replica?.Dispose();

    private async ValueTask<bool> ReplicaCanAnswerAsync(NpgsqlLogSequenceNumber? token, CancellationToken ct)
    {
        if (!_up || Lag > _maxLag)
        {
            return false;
        }

        if (token is null || Replayed(token.Value))
        {
            return true;
        }

        // The caller's write is not there yet: wait for the watch's next looks, briefly.
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var left = _wait - waited.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await Volatile.Read(ref _advanced).Task.WaitAsync(left, ct);
            }
            catch (TimeoutException)
            {
                return false;
            }

            if (!_up)
            {
                return false;
            }

            if (Replayed(token.Value))
            {
                return true;
            }
        }
    }

    private bool Replayed(NpgsqlLogSequenceNumber position) => Covers(new NpgsqlLogSequenceNumber((ulong)Interlocked.Read(ref _replayed)), position);

    /// <summary>
    /// Whether a server that has replayed up to <paramref name="replayed"/> holds everything written
    /// before <paramref name="position"/>. The primary reports a position just past a WAL page's
    /// header (24 bytes, 40 at a segment's start) when its last record ended at the page's end,
    /// while replay stops at that end: no record fits between the two (the smallest is 24 bytes,
    /// records start 8-byte aligned), so that position counts as replayed, or an idle primary's
    /// last position would never be.
    /// </summary>
    internal static bool Covers(NpgsqlLogSequenceNumber replayed, NpgsqlLogSequenceNumber position)
    {
        const ulong page = 8192;
        var (done, wanted) = ((ulong)replayed, (ulong)position);
        var intoPage = wanted % page;
        return done >= wanted || (intoPage <= 40 && wanted >= intoPage + 8 && done >= wanted - intoPage - 8);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// Looks at the replica every 50 ms (every second while it is lost): how far it has replayed, and
/// how long ago the primary was at that position, which is its lag. The primary's position is
/// sampled at each look; the lag is the age of the newest sample the replica has replayed past.
/// </summary>
public sealed class ReplicaWatch(Reads reads, ILogger<ReplicaWatch> logger) : BackgroundService
{
    private static readonly TimeSpan Often = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan WhileLost = TimeSpan.FromSeconds(1);

    // At one sample a look, a replica stuck for minutes would grow this without end; past the cap
    // the lag keeps growing from the oldest sample kept, which is all the rule needs.
    private const int MaxSamples = 10_000;

    private readonly Queue<(long At, NpgsqlLogSequenceNumber Position)> _samples = new();
    private long _caughtUpAt = Stopwatch.GetTimestamp();
    private NpgsqlLogSequenceNumber _lastSampled;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (reads.Replica is not { } replica)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var up = await LookAsync(replica, stoppingToken);
            await Task.Delay(up ? Often : WhileLost, stoppingToken);
        }
    }

    private async Task<bool> LookAsync(NpgsqlDataSource replica, CancellationToken ct)
    {
        try
        {
            var primary = await reads.PositionAsync(ct);
            var now = Stopwatch.GetTimestamp();
            if (primary > _lastSampled && _samples.Count < MaxSamples)
            {
                _samples.Enqueue((now, primary));
                _lastSampled = primary;
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // The primary's own outage shows on its requests; the replica's lag is then unknown and stays as it was.
            logger.LogDebug(e, "Could not read the primary's WAL position");
        }

        try
        {
            await using var command = replica.CreateCommand("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()");
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            if (!reader.GetBoolean(0) || reader.IsDBNull(1))
            {
                // A server that is not in recovery (a primary, or a promoted replica, which keeps
                // its last replayed position) no longer follows the primary's data.
                reads.ReplicaLost(new InvalidOperationException("ConnectionStrings:ClaimsReplica names a server that is not a standby."));
                return false;
            }

            var replayed = reader.GetFieldValue<NpgsqlLogSequenceNumber>(1);

            var now = Stopwatch.GetTimestamp();
            while (_samples.TryPeek(out var sample) && Reads.Covers(replayed, sample.Position))
            {
                _caughtUpAt = _samples.Dequeue().At;
            }

            var lag = _samples.Count == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_caughtUpAt, now);
            if (_samples.Count == 0)
            {
                _caughtUpAt = now;
            }

            reads.Observed(replayed, lag);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            reads.ReplicaLost(e);
            return false;
        }
    }
}
