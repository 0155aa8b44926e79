using Claims.Api.Data;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Events;

/// <summary>
/// This instance's one listener for committed events (the events table's trigger notifies
/// <see cref="Channel"/> with each new position, whichever instance or session wrote it). It holds
/// no events: a notice only wakes the live streams (and the webhook worker), which then read the table after their own
/// position. So a lost notice delays a stream until its next catch-up read and never drops an
/// event, and however many streams there are, memory does not grow with what they have not read.
/// The streams it wakes are also admitted here (a cap per caller and one per instance) and take
/// turns to read, so that one notice never asks the pool for a connection per stream.
/// </summary>
public sealed class EventNotifications(NpgsqlDataSource db, IOptions<EventStreamOptions> options, ILogger<EventNotifications> logger)
    : NotificationListener(db, logger, Channel, Tag, "committed events", "live streams read the events table at their catch-up interval")
{
    public const string Channel = "claims_events";

    /// <summary>Begins the listener's statements, so that pg_stat_activity shows which backend it is.</summary>
    public const string Tag = "/* Claims events listener */";

    private readonly EventStreamOptions _limits = options.Value;

    // A notice wakes every stream at once; this many read at a time, the rest wait their turn
    // without a connection, so that a thousand streams never ask the pool for a thousand.
    private readonly SemaphoreSlim _reads = new(options.Value.MaxConcurrentStreamReads);

    // The open streams per caller, entries removed at zero; guarded with the total by _gate.
    private readonly Dictionary<string, int> _perCaller = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private TaskCompletionSource _next = NewSignal();
    private int _subscribers;

    /// <summary>The live streams open on this instance now.</summary>
    public int Subscribers => Volatile.Read(ref _subscribers);

    /// <summary>
    /// Completes at the next notice (or when listening starts again, since notices may have been
    /// missed meanwhile). Take it before reading, so that an event committed during the read still
    /// wakes the reader.
    /// </summary>
    public Task Next => Volatile.Read(ref _next).Task;

    /// <summary>
    /// Counts a stream of <paramref name="caller"/> from its start to its end (dispose it when it
    /// ends), or refuses it with null when the caller already holds
    /// <see cref="EventStreamOptions.MaxStreamsPerCaller"/> streams, or this instance
    /// <see cref="EventStreamOptions.MaxStreams"/>; <paramref name="refusedBy"/> says which.
    /// </summary>
    public IDisposable? TrySubscribe(string caller, out StreamCap refusedBy)
    {
        lock (_gate)
        {
            var held = _perCaller.GetValueOrDefault(caller);
            // The caller's own cap first: it is the one the caller can do something about.
            refusedBy = held >= _limits.MaxStreamsPerCaller ? StreamCap.Caller
                : _subscribers >= _limits.MaxStreams ? StreamCap.Instance
                : StreamCap.None;
            if (refusedBy != StreamCap.None)
            {
                return null;
            }

            _perCaller[caller] = held + 1;
            Volatile.Write(ref _subscribers, _subscribers + 1);
            return new Subscription(this, caller);
        }
    }

    /// <summary>Waits for a turn to read the events table (dispose the turn after the read); no connection is held while waiting.</summary>
    public async Task<IDisposable> TakeReadTurnAsync(CancellationToken ct)
    {
        await _reads.WaitAsync(ct);
        return new ReadTurn(_reads);
    }

    protected override void OnNotification(string payload) => Wake();

    protected override void OnListening(bool listening)
    {
        if (listening)
        {
            Wake();
        }
    }

    private void Unsubscribe(string caller)
    {
        lock (_gate)
        {
            var held = _perCaller[caller] - 1;
            if (held == 0)
            {
                _perCaller.Remove(caller);
            }
            else
            {
                _perCaller[caller] = held;
            }

            Volatile.Write(ref _subscribers, _subscribers - 1);
        }
    }

    private sealed class Subscription(EventNotifications hub, string caller) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                hub.Unsubscribe(caller);
            }
        }
    }

    private sealed class ReadTurn(SemaphoreSlim reads) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                reads.Release();
            }
        }
    }

    private void Wake() => Interlocked.Exchange(ref _next, NewSignal()).TrySetResult();

    // Asynchronous continuations: the streams' reads must not run on the listener's connection thread.
    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Which cap refused a live stream.</summary>
public enum StreamCap
{
    None,

    /// <summary>The caller's: <see cref="EventStreamOptions.MaxStreamsPerCaller"/> (429).</summary>
    Caller,

    /// <summary>The instance's: <see cref="EventStreamOptions.MaxStreams"/> (503).</summary>
    Instance,
}
