using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Claims.Api.Errors;
using Microsoft.AspNetCore.RateLimiting;

namespace Claims.Api.Http;

public sealed class RateLimitingOptions
{
    /// <summary>Requests per minute for one API key (or one address without a key); 0 turns the limit off.</summary>
    public int RequestsPerMinute { get; set; } = 600;

    /// <summary>Writes (POST, PUT, DELETE) per minute for one API key; 0 turns the limit off.</summary>
    public int WritesPerMinute { get; set; } = 120;
}

/// <summary>Body size and per-key request rates.</summary>
public static class RequestLimits
{
    public const int MaxBodyBytes = 256 * 1024;

    /// <summary>The longest request line (method, path, query, version) Kestrel reads; longer is 414.</summary>
    public const int MaxRequestLineBytes = 8 * 1024;

    /// <summary>All request headers together; more is 431.</summary>
    public const int MaxHeaderBytes = 32 * 1024;

    public const int MaxHeaderCount = 100;

    public static void AddRequestLimits(this WebApplicationBuilder builder)
    {
        // Kestrel refuses these before the application sees the request, with a status and no
        // body; the values are the README's, set here so that they are a decision, not a default.
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxBodyBytes;
            kestrel.Limits.MaxRequestLineSize = MaxRequestLineBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = MaxHeaderBytes;
            kestrel.Limits.MaxRequestHeaderCount = MaxHeaderCount;
        });

        var limits = builder.Configuration.GetSection("RateLimiting").Get<RateLimitingOptions>() ?? new RateLimitingOptions();
        builder.Services.AddRateLimiter(options =>
        {
            if (limits.RequestsPerMinute <= 0 && limits.WritesPerMinute <= 0)
            {
                // Both off (as in the benchmark): no limiter at all, not two that always say yes.
                return;
            }

            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PerCaller(limits.RequestsPerMinute, _ => true, "all"),
                PerCaller(limits.WritesPerMinute, request => !ReadOnlyEndpoints.IsRead(request.HttpContext), "writes"));
            options.OnRejected = async (context, ct) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 60;
                var http = context.HttpContext;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = ProblemTypes.RateLimited.Details(Caller.KeyId(http.User) is null
                        ? $"Callers without an API key share one allowance per address, and this address has used it up for now. Retry in {retryAfter} s, or send your key in {Caller.KeyHeader}."
                        : $"The key '{Caller.Name(http.User)}' has used up its requests for now. Retry in {retryAfter} s."),
                });
            };
        });
    }

    /// <summary>Refuses bodies over the limit by their declared length, before anything reads them (Kestrel also stops longer streams).</summary>
    public static IApplicationBuilder UseBodySizeLimit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = ProblemTypes.BodyTooLarge.Details(
                    $"Bodies are limited to {MaxBodyBytes / 1024} KB; this one declares {context.Request.ContentLength} bytes."),
            });
            return;
        }

        await next(context);
    });

    /// <summary>A token bucket per API key (per address for callers without one) that refills every minute; none for health and Swagger.</summary>
    private static PartitionedRateLimiter<HttpContext> PerCaller(int perMinute, Func<HttpRequest, bool> applies, string kind) =>
        PartitionedRateLimiter.Create<HttpContext, string>(context =>
        {
            if (perMinute <= 0 || !applies(context.Request)
                || context.Request.Path.StartsWithSegments("/health") || context.Request.Path.StartsWithSegments("/swagger"))
            {
                return RateLimitPartition.GetNoLimiter(kind);
            }

            var caller = context.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "address:" + context.Connection.RemoteIpAddress;
            return RateLimitPartition.GetTokenBucketLimiter($"{kind}:{caller}", _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = perMinute,
                TokensPerPeriod = perMinute,
                ReplenishmentPeriod = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        });
}
