using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;

namespace Claims.Api.Http;

/// <summary>
/// The rate-limit header fields of draft-ietf-httpapi-ratelimit-headers-11 (HTTPAPI working group,
/// May 2026), on every answer that a limit counted, successful or not; a 429 also carries
/// Retry-After. The partition key parameter (pk) is left out: it would only echo the caller's
/// own key or address.
/// </summary>
public static class RateLimitHeaders
{
    /// <summary>The quota policies, the same on every answer: <c>"requests";q=600;w=60, "writes";q=120;w=60</c>.</summary>
    public const string Policy = "RateLimit-Policy";

    /// <summary>Where the caller stands in each policy that counted this request: <c>"requests";r=597;t=42</c> (r left, t seconds until they are all back).</summary>
    public const string RateLimit = "RateLimit";

    /// <summary>The header fields a limited answer carries (and a 429 Retry-After besides), for the OpenAPI document and CORS.</summary>
    public static readonly IReadOnlyList<string> Names = [Policy, RateLimit];
}

/// <summary>
/// The configured policies (requests, and writes: POST, PUT, PATCH, DELETE), each a window per API
/// key (per address for callers without one) counted by the framework's partitioned limiter, and
/// the header fields they give. Health and Swagger are never counted.
/// </summary>
internal sealed class RateLimitPolicies : IDisposable
{
    /// <summary>Every policy's window: one minute.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly (string Name, PartitionedRateLimiter<HttpContext> Limiter)[] _policies;
    private readonly string _policyField;

    public RateLimitPolicies(RateLimitingOptions limits)
    {
        (string Name, int Quota, Func<HttpContext, bool> Counts)[] configured =
        [
            ("requests", limits.RequestsPerMinute, _ => true),
            ("writes", limits.WritesPerMinute, http => !ReadOnlyEndpoints.IsRead(http)),
        ];
        var enabled = configured.Where(p => p.Quota > 0).ToArray();
        _policies = [.. enabled.Select(p => (p.Name, PerCaller(p.Name, p.Quota, p.Counts)))];
        _policyField = string.Join(", ", enabled.Select(p => string.Create(CultureInfo.InvariantCulture, $"\"{p.Name}\";q={p.Quota};w={(int)Window.TotalSeconds}")));
        // Writes first: the middleware asks a second time after a refusal, and a chain takes a
        // permit from every limiter before the one that refuses, so a write refused for its own
        // limit would otherwise spend two of the caller's requests as well.
        Chain = PartitionedRateLimiter.CreateChained([.. _policies.Select(p => p.Limiter).Reverse()]);
    }

    /// <summary>Every policy as one limiter, for the middleware.</summary>
    public PartitionedRateLimiter<HttpContext> Chain { get; }

    /// <summary>
    /// Adds both fields when a policy counted the request: each limiter is asked for no permit,
    /// which takes nothing and answers with the caller's window. An answer no policy counted
    /// (health, Swagger) gets neither, and a read no entry for writes.
    /// </summary>
    public void AddHeaders(HttpContext http)
    {
        var items = new List<string>(_policies.Length);
        foreach (var (name, limiter) in _policies)
        {
            using var lease = limiter.AttemptAcquire(http, 0);
            if (lease.TryGetMetadata(WindowState.Metadata, out var state))
            {
                items.Add(string.Create(CultureInfo.InvariantCulture, $"\"{name}\";r={state!.Remaining};t={state.SecondsToReset}"));
            }
        }

        if (items.Count > 0)
        {
            http.Response.Headers[RateLimitHeaders.Policy] = _policyField;
            http.Response.Headers[RateLimitHeaders.RateLimit] = string.Join(", ", items);
        }
    }

    public void Dispose()
    {
        Chain.Dispose();
        foreach (var (_, limiter) in _policies)
        {
            limiter.Dispose();
        }
    }

    private static PartitionedRateLimiter<HttpContext> PerCaller(string policy, int perWindow, Func<HttpContext, bool> counts) =>
        PartitionedRateLimiter.Create<HttpContext, string>(context =>
        {
            if (!counts(context) || context.Request.Path.StartsWithSegments("/health") || context.Request.Path.StartsWithSegments("/swagger"))
            {
                return RateLimitPartition.GetNoLimiter(policy);
            }

            var caller = context.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "address:" + context.Connection.RemoteIpAddress;
            return RateLimitPartition.Get($"{policy}:{caller}", _ => new CallerWindow(policy, perWindow, Window));
        });
}
