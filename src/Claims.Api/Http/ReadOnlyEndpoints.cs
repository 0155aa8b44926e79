using Microsoft.AspNetCore.Diagnostics;

namespace Claims.Api.Http;

/// <summary>Marks an endpoint that only reads although its method is not GET (a look-up with a body).</summary>
public sealed class ReadsOnlyMetadata;

/// <summary>
/// Which requests cannot change anything: what read retries, the write rate limit and the
/// declared 504 all go by, decided in this one place.
/// </summary>
public static class ReadOnlyEndpoints
{
    public static TBuilder ReadsOnly<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ReadsOnlyMetadata());

    /// <summary>GET and HEAD, and endpoints marked <see cref="ReadsOnly{TBuilder}"/>; needs routing to have run.</summary>
    public static bool IsRead(HttpContext http) =>
        HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method)
        // The exception handler clears the endpoint before it answers; its feature keeps the one that failed.
        || (http.GetEndpoint() ?? http.Features.Get<IExceptionHandlerFeature>()?.Endpoint)?.Metadata.GetMetadata<ReadsOnlyMetadata>() is not null;
}
