using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Claims.Api.Http;

/// <summary>
/// Every answer carries an X-Request-Id, and the logs and the problem body carry the same value:
/// the client's own, when it sent one that is well formed (1 to 64 of A-Z, a-z, 0-9 and . _ : -),
/// otherwise the server's trace identifier for the request. The value becomes the request's
/// <see cref="HttpContext.TraceIdentifier"/> before the request's logging scope opens, so that the
/// framework's scope, which already names it RequestId, shows it on every line the request logs.
/// </summary>
public static class RequestIds
{
    public const string Header = "X-Request-Id";

    public const int MaxLength = 64;

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");

    public static bool IsWellFormed(string? value) =>
        value is { Length: > 0 and <= MaxLength } && !value.AsSpan().ContainsAnyExcept(Allowed);

    /// <summary>
    /// The hosting layer opens the request's logging scope right after it makes the HttpContext,
    /// before any middleware runs: the context factory is the last place to set the identifier.
    /// </summary>
    public static IServiceCollection AddRequestIds(this IServiceCollection services) =>
        services.AddSingleton<IHttpContextFactory, RequestIdContextFactory>();

    /// <summary>First in the pipeline: the header goes on whatever answers, error pages included.</summary>
    public static IApplicationBuilder UseRequestIds(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        // When the headers go out, not now: the exception handler clears the headers it finds.
        context.Response.OnStarting(static state =>
        {
            var http = (HttpContext)state;
            http.Response.Headers[Header] = http.TraceIdentifier;
            return Task.CompletedTask;
        }, context);
        return next(context);
    });

    private sealed class RequestIdContextFactory(IServiceProvider services) : IHttpContextFactory
    {
        private readonly DefaultHttpContextFactory _inner = new(services);

        public HttpContext Create(IFeatureCollection featureCollection)
        {
            var context = _inner.Create(featureCollection);
            var sent = context.Request.Headers[Header];
            if (sent.Count == 1 && IsWellFormed(sent[0]))
            {
                context.TraceIdentifier = sent[0]!;
            }

            return context;
        }

        public void Dispose(HttpContext httpContext) => _inner.Dispose(httpContext);
    }
}
