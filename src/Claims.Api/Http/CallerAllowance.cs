using System.Threading.RateLimiting;

namespace Claims.Api.Http;

/// <summary>Where one caller stands in one policy's window, as the leases and the header fields report it.</summary>
/// <param name="Policy">The policy's name, as the RateLimit header fields give it: requests or writes.</param>
/// <param name="Remaining">The permits left in the window after this request.</param>
/// <param name="ResetsIn">How long until the window ends and every permit is back.</param>
public sealed record WindowState(string Policy, int Remaining, TimeSpan ResetsIn)
{
    public static readonly MetadataName<WindowState> Metadata = MetadataName.Create<WindowState>("claims.window-state");

    /// <summary>Whole seconds until the window ends, rounded up, as Retry-After and the RateLimit field's t give it.</summary>
    public int SecondsToReset => Math.Max(0, (int)Math.Ceiling(ResetsIn.TotalSeconds));
}

/// <summary>
/// The part of one caller's window in one policy that this instance holds: permits taken from the
/// counter (<see cref="IWindowCounter"/>) and not yet spent, and what the counter last said of the
/// whole window. Requests spend held permits without asking anyone; when none are held, one
/// request asks the counter for a batch and the others that arrive meanwhile wait for the same
/// answer. Every member but <see cref="RefillAsync"/> is called with <see cref="Gate"/> held.
/// </summary>
internal sealed class CallerAllowance(string policy, string caller, int quota, IWindowCounter counter, TimeProvider time)
{
    public readonly Lock Gate = new();
    private long _endsAt;
    private bool _open;
    private int _held;
    private int _taken;
    private bool _spent;
    private Task? _refill;
    private long _touched = time.GetTimestamp();

    public enum Standing
    {
        Available,
        Spent,
        Unknown,
    }

    /// <summary>Whether a permit can be spent now, the window is used up, or the counter must be asked.</summary>
    public Standing Check()
    {
        _touched = time.GetTimestamp();
        if (_open && time.GetTimestamp() >= _endsAt)
        {
            // A new window: what was held belonged to the old one.
            _open = false;
            _held = 0;
            _taken = 0;
            _spent = false;
        }

        return _held > 0 ? Standing.Available : _open && _spent ? Standing.Spent : Standing.Unknown;
    }

    /// <summary>
    /// Spends a permit; true when the permits held have run low and the window may have more, so
    /// that the next batch is asked for now, while requests still have permits to spend, rather
    /// than by the request that finds none (and the others that then wait with it).
    /// </summary>
    public bool Spend()
    {
        _held--;
        // Only while some are still held: with batches of one or two, taking ahead would hold permits
        // that another instance's caller needs now.
        return _refill is null && !_spent && _held > 0 && _held <= counter.BatchFor(quota) / 2 && _taken < quota;
    }

    public WindowState State() => new(policy, Math.Max(0, quota - _taken + _held),
        _open ? TimeSpan.FromTicks(Math.Max(0, (_endsAt - time.GetTimestamp()) * TimeSpan.TicksPerSecond / time.TimestampFrequency)) : RateLimitPolicies.Window);

    /// <summary>Whether nobody has asked for a window's length and nothing is being fetched: its permits are gone with its window.</summary>
    public bool IsStale() => _refill is null && (!_open || time.GetTimestamp() >= _endsAt)
        && time.GetElapsedTime(_touched) > RateLimitPolicies.Window;

    /// <summary>Asks the counter for a batch, or joins the request already asking.</summary>
    public Task RefillAsync()
    {
        TaskCompletionSource asked;
        lock (Gate)
        {
            if (_refill is { } asking)
            {
                return asking;
            }

            asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _refill = asked.Task;
        }

        _ = AskAsync(asked);
        return asked.Task;
    }

    private async Task AskAsync(TaskCompletionSource asked)
    {
        try
        {
            // Not the request's token: other requests wait for this answer too. The counters
            // never wait longer than their own timeouts; this bounds them all the same.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var grant = await counter.TakeAsync(policy, caller, quota, counter.BatchFor(quota), timeout.Token).ConfigureAwait(false);
            lock (Gate)
            {
                Check();
                _open = true;
                _endsAt = time.GetTimestamp() + (long)(grant.EndsIn.TotalSeconds * time.TimestampFrequency);
                _held += grant.Granted;
                _taken = grant.Taken;
                _spent = grant.Granted == 0;
                _refill = null;
            }

            asked.SetResult();
        }
        catch (Exception e)
        {
            lock (Gate)
            {
                _refill = null;
            }

            asked.SetException(e);
        }
    }
}
