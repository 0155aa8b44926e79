using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;

namespace Claims.Api.Http;

/// <summary>
/// The configured policies (requests, and writes: POST, PUT, PATCH, DELETE), each a window per API
/// key (per address for callers without one), as the one limiter the framework's middleware asks.
/// A request takes a permit from every policy that counts it or from none, so a write refused for
/// its own limit spends no request. Permits are counted by an <see cref="IWindowCounter"/>: in
/// PostgreSQL, shared by all instances, unless RateLimiting:Shared is false. The middleware first
/// tries without waiting, which succeeds while this instance holds permits for the caller, and
/// otherwise asks again with waiting, which fetches a batch. Health and Swagger are never counted.
/// </summary>
internal sealed class RateLimitPolicies : PartitionedRateLimiter<HttpContext>
{
    /// <summary>Every policy's window: one minute.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    // Each refill brings at least one permit while the window has any, so waiting requests get
    // theirs or learn that the window is spent; a request that many others outrun this often
    // (hundreds of one key's at once) is refused rather than kept waiting longer.
    private const int MaxRefills = 64;

    private readonly (string Name, int Quota, Func<HttpContext, bool> Counts)[] _policies;
    private readonly string _policyField;
    private readonly IWindowCounter _counter;
    private readonly TimeProvider _time;
    private static readonly object ItemKey = new();

    private readonly ConcurrentDictionary<(string Policy, string Caller), CallerAllowance> _allowances = new();

    public RateLimitPolicies(RateLimitingOptions limits, IWindowCounter counter, TimeProvider time)
    {
        (string Name, int Quota, Func<HttpContext, bool> Counts)[] configured =
        [
            ("requests", limits.RequestsPerMinute, _ => true),
            ("writes", limits.WritesPerMinute, http => !ReadOnlyEndpoints.IsRead(http)),
        ];
        _policies = [.. configured.Where(p => p.Quota > 0)];
        _policyField = string.Join(", ", _policies.Select(p => string.Create(CultureInfo.InvariantCulture, $"\"{p.Name}\";q={p.Quota};w={(int)Window.TotalSeconds}")));
        _counter = counter;
        _time = time;
    }

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

    /// <summary>
    /// Adds both fields when a policy counted the request, saying where the caller stands after it.
    /// An answer no policy counted (health, Swagger) gets neither, and a read no entry for writes.
    /// </summary>
    public void AddHeaders(HttpContext http)
    {
        var allowances = AllowancesFor(http);
        if (allowances.Length == 0)
        {
            return;
        }

        var items = new string[allowances.Length];
        for (var i = 0; i < allowances.Length; i++)
        {
            WindowState state;
            lock (allowances[i].Gate)
            {
                allowances[i].Check();
                state = allowances[i].State();
            }

            items[i] = string.Create(CultureInfo.InvariantCulture, $"\"{state.Policy}\";r={state.Remaining};t={state.SecondsToReset}");
        }

        http.Response.Headers[RateLimitHeaders.Policy] = _policyField;
        http.Response.Headers[RateLimitHeaders.RateLimit] = string.Join(", ", items);
    }

    public async Task SweepAsync(CancellationToken ct)
    {
        foreach (var (key, allowance) in _allowances)
        {
            // Removed under its gate, so that no request is between finding it and spending from it.
            lock (allowance.Gate)
            {
                if (allowance.IsStale())
                {
                    _allowances.TryRemove(KeyValuePair.Create(key, allowance));
                }
            }
        }

        await _counter.SweepAsync(ct);
    }

    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount)
    {
        var allowances = AllowancesFor(resource);
        return allowances.Length == 0 || permitCount == 0 ? Lease.Granted : TrySpend(allowances, out _) ?? Lease.NotYet;
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken)
    {
        var allowances = AllowancesFor(resource);
        if (allowances.Length == 0 || permitCount == 0)
        {
            return Lease.Granted;
        }

        for (var refill = 0; refill < MaxRefills; refill++)
        {
            if (TrySpend(allowances, out var lacking) is { } lease)
            {
                return lease;
            }

            await Task.WhenAll(lacking!.Select(a => a.RefillAsync())).WaitAsync(cancellationToken);
        }

        if (TrySpend(allowances, out _) is { } last)
        {
            return last;
        }

        WindowState state;
        lock (allowances[0].Gate)
        {
            state = allowances[0].State();
        }

        return Lease.Refused(state);
    }

    /// <summary>
    /// Spends a permit of every allowance, or of none: a lease granted, or refused with the state
    /// of the first policy used up; null (and the allowances to refill) when the counter must be asked first.
    /// </summary>
    private static Lease? TrySpend(CallerAllowance[] allowances, out List<CallerAllowance>? lacking)
    {
        lacking = null;
        List<CallerAllowance>? low = null;
        // Always in the policies' order, so two requests never hold each other's gate.
        foreach (var allowance in allowances)
        {
            allowance.Gate.Enter();
        }

        try
        {
            foreach (var allowance in allowances)
            {
                switch (allowance.Check())
                {
                    case CallerAllowance.Standing.Spent:
                        lacking = null;
                        return Lease.Refused(allowance.State());
                    case CallerAllowance.Standing.Unknown:
                        (lacking ??= []).Add(allowance);
                        break;
                }
            }

            if (lacking is not null)
            {
                return null;
            }

            foreach (var allowance in allowances)
            {
                if (allowance.Spend())
                {
                    (low ??= []).Add(allowance);
                }
            }

            return Lease.Granted;
        }
        finally
        {
            for (var i = allowances.Length - 1; i >= 0; i--)
            {
                allowances[i].Gate.Exit();
            }

            foreach (var allowance in low ?? [])
            {
                // Nobody waits for it: the next requests find the batch there.
                _ = allowance.RefillAsync();
            }
        }
    }

    private CallerAllowance[] AllowancesFor(HttpContext http)
    {
        // Asked up to three times a request (trying, waiting, the header fields): found once.
        if (http.Items.TryGetValue(ItemKey, out var found))
        {
            return (CallerAllowance[])found!;
        }

        var allowances = Find(http);
        http.Items[ItemKey] = allowances;
        return allowances;
    }

    private CallerAllowance[] Find(HttpContext http)
    {
        if (http.Request.Path.StartsWithSegments("/health") || http.Request.Path.StartsWithSegments("/swagger"))
        {
            return [];
        }

        var caller = http.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "address:" + http.Connection.RemoteIpAddress;
        var counted = new List<CallerAllowance>(_policies.Length);
        foreach (var (name, quota, counts) in _policies)
        {
            if (counts(http))
            {
                counted.Add(_allowances.GetOrAdd((name, caller), static (key, state) =>
                    new CallerAllowance(key.Policy, key.Caller, state.quota, state.Self._counter, state.Self._time), (Self: this, quota)));
            }
        }

        return [.. counted];
    }

    private sealed class Lease(bool acquired, WindowState? state) : RateLimitLease
    {
        public static readonly Lease Granted = new(true, null);

        /// <summary>Not refused: this instance holds no permit yet, which the waiting acquisition fetches.</summary>
        public static readonly Lease NotYet = new(false, null);

        public static Lease Refused(WindowState state) => new(false, state);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => state is null ? [] : [WindowState.Metadata.Name, MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = state is null ? null
                : metadataName == WindowState.Metadata.Name ? state
                : metadataName == MetadataName.RetryAfter.Name ? state.ResetsIn
                : null;
            return metadata is not null;
        }

        protected override void Dispose(bool disposing)
        {
            // Permits are spent, not borrowed: a finished request gives nothing back.
        }
    }
}
