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

    /// <summary>Writes (POST, PUT, PATCH, DELETE; not the look-ups that read) per minute for one API key; 0 turns the limit off.</summary>
    public int WritesPerMinute { get; set; } = 120;

    /// <summary>
    /// Whether every instance counts against the same allowance, kept in PostgreSQL (default
    /// true): with several instances behind a balancer a caller's limit is then the limit. False,
    /// each instance counts by itself and a caller gets the quota once per instance.
    /// </summary>
    public bool Shared { get; set; } = true;
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
        builder.Services.AddRateLimiter(_ => { });
        if (limits.RequestsPerMinute <= 0 && limits.WritesPerMinute <= 0)
        {
            // Both off (as in the benchmark): no limiter at all, not two that always say yes, and no header fields.
            return;
        }

        builder.Services.AddSingleton(services => new LocalWindowCounter(services.GetService<TimeProvider>() ?? TimeProvider.System));
        builder.Services.AddSingleton<IWindowCounter>(services => limits.Shared
            ? ActivatorUtilities.CreateInstance<SharedWindowCounter>(services)
            : services.GetRequiredService<LocalWindowCounter>());
        builder.Services.AddSingleton(services => new RateLimitPolicies(limits, services.GetRequiredService<IWindowCounter>(), services.GetService<TimeProvider>() ?? TimeProvider.System));
        builder.Services.AddHostedService<RateLimitSweep>();
        builder.Services.AddOptions<RateLimiterOptions>().Configure<RateLimitPolicies>((options, policies) =>
        {
            options.GlobalLimiter = policies;
            options.OnRejected = async (context, ct) =>
            {
                var state = context.Lease.TryGetMetadata(WindowState.Metadata, out var window) ? window : null;
                var retryAfter = Math.Max(1, state?.SecondsToReset ?? (int)RateLimitPolicies.Window.TotalSeconds);
                var http = context.HttpContext;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = ProblemTypes.RateLimited.Details(Caller.KeyId(http.User) is null
                        ? $"Callers without an API key share one allowance per address, and this address has used it up for now. Retry in {retryAfter} s, or send your key in {Caller.KeyHeader}."
                        : $"The key '{Caller.Name(http.User)}' has used up its {state?.Policy ?? "requests"} for now. Retry in {retryAfter} s."),
                });
            };
        });
    }

    /// <summary>
    /// The rate limiter, after authentication (it partitions by API key), and the RateLimit header
    /// fields on every answer it counted. They are added as the answer starts, whoever writes it
    /// (the handler, the 429, the exception handler that cleared the headers before its problem),
    /// so that they say where the caller stands after this request.
    /// </summary>
    public static IApplicationBuilder UseRateLimits(this IApplicationBuilder app)
    {
        if (app.ApplicationServices.GetService<RateLimitPolicies>() is { } policies)
        {
            app.Use((context, next) =>
            {
                context.Response.OnStarting(static state =>
                {
                    var (policies, http) = ((RateLimitPolicies, HttpContext))state;
                    policies.AddHeaders(http);
                    return Task.CompletedTask;
                }, (policies, context));
                return next(context);
            });
        }

        return app.UseRateLimiter();
    }

    /// <summary>Refuses bodies over the limit by their declared length, before anything reads them (Kestrel also stops longer streams).</summary>
    public static IApplicationBuilder UseBodySizeLimit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        // An endpoint that takes files (POST /imports) says so with its own limit; its handler raises Kestrel's.
        var limit = context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata>()?.MaxRequestBodySize ?? MaxBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = ProblemTypes.BodyTooLarge.Details(
                    $"Bodies here are limited to {limit / 1024} KB; this one declares {context.Request.ContentLength} bytes."),
            });
            return;
        }

        await next(context);
    });
}
