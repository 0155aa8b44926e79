using System.Diagnostics;
using System.Threading.RateLimiting;

namespace Claims.Api.Http;

/// <summary>Where one caller stands in one policy's window, as every lease of <see cref="CallerWindow"/> reports it.</summary>
/// <param name="Policy">The policy's name, as the RateLimit header fields give it: requests or writes.</param>
/// <param name="Remaining">The permits left in the window after this lease.</param>
/// <param name="ResetsIn">How long until the window ends and every permit is back.</param>
public sealed record WindowState(string Policy, int Remaining, TimeSpan ResetsIn)
{
    public static readonly MetadataName<WindowState> Metadata = MetadataName.Create<WindowState>("claims.window-state");

    /// <summary>Whole seconds until the window ends, rounded up, as Retry-After and the RateLimit field's t give it.</summary>
    public int SecondsToReset => Math.Max(0, (int)Math.Ceiling(ResetsIn.TotalSeconds));
}

/// <summary>
/// A fixed window of permits for one caller: it opens with the caller's first request, and once it
/// has passed, the next request opens a new one with every permit back. The framework's token
/// bucket counted the same way but cannot say when its permits come back: its successful leases
/// carry no metadata and its RetryAfter is the whole period however much of it is left
/// (dotnet/runtime#129036; the fixed window's was mended only after .NET 10, #124478). Every lease
/// of this window says how many permits are left and when they return, which the RateLimit header
/// fields and Retry-After need. The framework's partitioned and chained limiters still decide which
/// caller's window a request counts against, drive the middleware and drop idle windows.
/// </summary>
internal sealed class CallerWindow(string policy, int permits, TimeSpan length) : RateLimiter
{
    private readonly Lock _gate = new();
    private long _opened = Stopwatch.GetTimestamp();
    private int _used;
    private long _granted;
    private long _refused;

    /// <summary>Since when every permit has been available: the partitioned limiter drops a window idle for long.</summary>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_gate)
            {
                var age = Stopwatch.GetElapsedTime(_opened);
                return age >= length ? age - length : _used == 0 ? age : null;
            }
        }
    }

    public override RateLimiterStatistics GetStatistics()
    {
        lock (_gate)
        {
            Roll();
            return new RateLimiterStatistics { CurrentAvailablePermits = permits - _used, TotalSuccessfulLeases = _granted, TotalFailedLeases = _refused };
        }
    }

    /// <summary>Takes the permits if the window has them; asked for none, only tells where the caller stands.</summary>
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (_gate)
        {
            Roll();
            var acquired = permitCount == 0 ? _used < permits : _used + permitCount <= permits;
            if (permitCount > 0 && acquired)
            {
                _used += permitCount;
                _granted++;
            }
            else if (permitCount > 0)
            {
                _refused++;
            }

            return new Lease(acquired, new WindowState(policy, permits - _used, length - Stopwatch.GetElapsedTime(_opened)));
        }
    }

    // Nothing waits in a queue: a request over the limit is refused at once.
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    private void Roll()
    {
        if (Stopwatch.GetElapsedTime(_opened) >= length)
        {
            _opened = Stopwatch.GetTimestamp();
            _used = 0;
        }
    }

    private sealed class Lease(bool acquired, WindowState state) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => [WindowState.Metadata.Name, MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == WindowState.Metadata.Name ? state
                : metadataName == MetadataName.RetryAfter.Name && !acquired ? state.ResetsIn
                : null;
            return metadata is not null;
        }
    }
}
