using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Claims.Api.Auth;

/// <summary>
/// Counts failed authentications (malformed, unknown and revoked keys) per client address. Past
/// <see cref="AuthOptions.FailedAuthenticationsPerMinute"/>, a key from that address is refused
/// without being checked, unless this instance accepted it moments ago, so that guessing keys
/// costs the guesser rather than the database.
/// </summary>
public sealed class FailedAuthentications : IDisposable
{
    /// <summary>The <see cref="HttpContext.Items"/> entry, a <see cref="TimeSpan"/> to wait, that tells <see cref="AccessProblems"/> to answer 429.</summary>
    public static readonly object Refused = new();

    private readonly PartitionedRateLimiter<string>? _limiter;

    public FailedAuthentications(IOptions<AuthOptions> options)
    {
        PerMinute = options.Value.FailedAuthenticationsPerMinute;
        if (PerMinute <= 0)
        {
            return;
        }

        // A bucket of PerMinute failures per address that refills steadily, one failure every
        // 60/PerMinute s (the partitioned limiter tops up buckets that do not replenish themselves
        // in fractions, as time passes). An address whose bucket has been full for a while is
        // dropped, so memory follows the addresses that failed lately.
        _limiter = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ =>
            new TokenBucketRateLimiterOptions
            {
                TokenLimit = PerMinute,
                TokensPerPeriod = PerMinute,
                ReplenishmentPeriod = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
                AutoReplenishment = false,
            }));
    }

    public int PerMinute { get; }

    /// <summary>How long the address must wait when it has used up its failures, else null.</summary>
    public TimeSpan? Refuses(IPAddress? address)
    {
        // The statistics count whole failures left. (A lease for no permit would succeed on a
        // fraction of one, and a failed lease's Retry-After is the whole minute.)
        if (_limiter?.GetStatistics(Partition(address)) is not { CurrentAvailablePermits: < 1 })
        {
            return null;
        }

        // When the next whole failure is allowed, at the latest.
        return TimeSpan.FromMinutes(1) / PerMinute;
    }

    public void Record(IPAddress? address)
    {
        if (_limiter is not null)
        {
            using var lease = _limiter.AttemptAcquire(Partition(address));
        }
    }

    /// <summary>
    /// One partition per IPv4 address and per /64 for IPv6, since one subscriber usually holds a
    /// whole /64 and could otherwise take a fresh address for every guess. Without an address (the
    /// test server) every caller shares one partition.
    /// </summary>
    public static string Partition(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown address";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    public void Dispose() => _limiter?.Dispose();
}
