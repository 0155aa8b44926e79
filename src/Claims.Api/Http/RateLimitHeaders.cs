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
