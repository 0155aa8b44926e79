using Microsoft.Net.Http.Headers;

namespace Claims.Api.Http;

public sealed class CorsSettings
{
    /// <summary>Origins whose browser pages may call the API, such as https://desk.example.org; none by default.</summary>
    public string[] AllowedOrigins { get; set; } = [];
}

/// <summary>
/// Browser dashboards on other origins may call the API when their origin is configured
/// (Cors:AllowedOrigins): the framework's CORS policy answers their preflights and lets their
/// pages read the headers a client needs (the rate-limit fields among them). Off by default, so nothing changes for servers and tools.
/// </summary>
public static class CrossOrigin
{
    private const string Policy = "configured-origins";

    public static IServiceCollection AddCrossOrigin(this IServiceCollection services, IConfiguration configuration)
    {
        var origins = configuration.GetSection("Cors").Get<CorsSettings>()?.AllowedOrigins ?? [];
        return services.AddCors(options => options.AddPolicy(Policy, policy => policy
            .WithOrigins(origins)
            .WithMethods(HttpMethods.Get, HttpMethods.Post, HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete)
            .WithHeaders(HeaderNames.ContentType, Caller.KeyHeader, HeaderNames.IfMatch, HeaderNames.IfNoneMatch, Idempotency.Header, ConsistencyTokens.Header)
            .WithExposedHeaders([HeaderNames.ETag, HeaderNames.Location, HeaderNames.Link, HeaderNames.RetryAfter, Idempotency.ReplayedHeader, RequestIds.Header, ConsistencyTokens.Header, .. RateLimitHeaders.Names])
            // A preflight is asked again after ten minutes, not before every request.
            .SetPreflightMaxAge(TimeSpan.FromMinutes(10))));
    }

    /// <summary>Before authentication: a preflight carries no key.</summary>
    public static IApplicationBuilder UseCrossOrigin(this IApplicationBuilder app) => app.UseCors(Policy);
}
