using Claims.Api.Http;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;

namespace Claims.Api.OpenApi;

/// <summary>
/// The response headers the document declares, once each under components/headers: responses
/// refer to them, so that a client generator sees one definition of each.
/// </summary>
public static class DocumentedHeaders
{
    public const int MaxETagLength = 64;

    /// <summary>A WAL position as PostgreSQL writes it: two 32-bit hexadecimal numbers, 0/16B3748.</summary>
    public const int MaxConsistencyTokenLength = 17;

    private const string RequestId = RequestIds.Header;
    private const string RateLimit = RateLimitHeaders.RateLimit;
    private const string RateLimitPolicy = RateLimitHeaders.Policy;

    /// <summary>What every answer can carry: its request id, and CORS's header.</summary>
    public static readonly string[] Unlimited = [RequestId, HeaderNames.AccessControlAllowOrigin];

    /// <summary>What every answer the rate limiter counted can carry: the above and the limits.</summary>
    public static readonly string[] OnEveryAnswer = [.. Unlimited, RateLimit, RateLimitPolicy];

    private static readonly Dictionary<string, (string Description, int MaxLength, string? Format)> All = new()
    {
        [RequestId] = ("The request's id, also in the logs and in a problem's requestId: quote it when you report a failure. A well-formed id you send in X-Request-Id is kept.", 64, null),
        [RateLimit] = ("What is left of the caller's allowance (IETF RateLimit header fields): per policy, r is the requests remaining and t the seconds until the window resets. Absent while rate limits are off.", 200, null),
        [RateLimitPolicy] = ("The caller's allowances (IETF RateLimit header fields): per policy, q requests per w seconds. Absent while rate limits are off.", 200, null),
        [HeaderNames.AccessControlAllowOrigin] = ("CORS: the calling page's origin, when it is one of Cors:AllowedOrigins (none by default).", 2048, null),
        [HeaderNames.ETag] = ("The version of what was answered, such as \"3\": send it in If-Match to change it, or in If-None-Match to read it only when it changed.", MaxETagLength, null),
        [HeaderNames.Location] = ("The path of what was created.", 2048, "uri-reference"),
        [HeaderNames.Link] = ("<next page>; rel=\"next\": the full URL of the next page with the same filters, while there is one.", 8192, null),
        [HeaderNames.RetryAfter] = ("Seconds to wait before trying again.", 10, null),
        [ConsistencyTokens.Header] = ("Where a read replica is configured: send it back in Consistency-Token on your next reads to see this write in them. Absent without a replica, where every read sees every write.", MaxConsistencyTokenLength, null),
        [Idempotency.ReplayedHeader] = ("true when this is the stored answer to an earlier request with the same Idempotency-Key: nothing was written this time.", 5, null),
    };

    public static void AddTo(OpenApiDocument document)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.Headers ??= new Dictionary<string, IOpenApiHeader>();
        foreach (var (name, (description, maxLength, format)) in All)
        {
            document.Components.Headers[name] = new OpenApiHeader
            {
                Description = description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = maxLength, Format = format },
            };
        }
    }
}
