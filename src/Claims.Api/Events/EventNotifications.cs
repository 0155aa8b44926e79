using Claims.Api.Data;
using Npgsql;

namespace Claims.Api.Events;

/// <summary>
/// This instance's one listener for committed events (the events table's trigger notifies
/// <see cref="Channel"/> with each new position, whichever instance or session wrote it). It holds
/// no events: a notice only wakes the live streams (and the webhook worker), which then read the table after their own
/// position. So a lost notice delays a stream until its next catch-up read and never drops an
/// event, and however many streams there are, memory does not grow with what they have not read.
/// </summary>
public sealed class EventNotifications(NpgsqlDataSource db, ILogger<EventNotifications> logger)
    : NotificationListener(db, logger, Channel, Tag, "committed events", "live streams read the events table at their catch-up interval")
{
    public const string Channel = "claims_events";

    /// <summary>Begins the listener's statements, so that pg_stat_activity shows which backend it is.</summary>
    public const string Tag = "/* Claims events listener */";

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

    /// <summary>Counts a stream from its start to its end; dispose when it ends.</summary>
    public IDisposable Subscribe()
    {
        Interlocked.Increment(ref _subscribers);
        return new Subscription(this);
    }

    protected override void OnNotification(string payload) => Wake();

    protected override void OnListening(bool listening)
    {
        if (listening)
        {
            Wake();
        }
    }

    private sealed class Subscription(EventNotifications hub) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref hub._subscribers);
            }
        }
    }

    private void Wake() => Interlocked.Exchange(ref _next, NewSignal()).TrySetResult();

    // Asynchronous continuations: the streams' reads must not run on the listener's connection thread.
    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
