using Microsoft.Net.Http.Headers;

namespace Claims.Api.Http;

/// <summary>
/// Headers every answer carries so that nothing in between can misuse it: answers depend on the
/// API key (or the desk's session cookie), so a shared cache must neither keep them nor hand one caller's answer to another;
/// browsers must not guess a content type; and the server does not name itself.
/// </summary>
public static class ResponseHeaders
{
    public static IApplicationBuilder UseResponseHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(static state =>
        {
            var response = ((HttpContext)state).Response;
            var headers = response.Headers;
            headers.XContentTypeOptions = "nosniff";
            if (((HttpContext)state).Request.Path.StartsWithSegments("/swagger"))
            {
                return Task.CompletedTask;
            }

            // The desk's session cookie stands for a key as well.
            headers.Append(HeaderNames.Vary, $"{Caller.KeyHeader}, {HeaderNames.Cookie}");
            // An answer with an ETag may be kept by the caller's own cache, which asks again
            // each time (a 304 costs no body); any other answer is the caller's alone. A
            // directive a handler or the framework already set (no-store on a 500) stays.
            if (headers.CacheControl.Count == 0)
            {
                headers.CacheControl = headers.ETag.Count > 0 || response.StatusCode == StatusCodes.Status304NotModified
                    ? "private, no-cache"
                    : "private";
            }

            return Task.CompletedTask;
        }, context);
        return next(context);
    });
}
