using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;

namespace Claims.Api.Http;

/// <summary>An answer that goes out with an ETag header (the OpenAPI document declares it from this).</summary>
public interface IHasETag;

/// <summary>
/// A GET whose answer carries an ETag answers 304, without a body, when the request's
/// If-None-Match names that tag (or is *): a client that polls pays for a body only when something
/// changed. If-None-Match compares weakly, so W/"3" matches "3".
/// </summary>
public static class ConditionalGet
{
    public static TBuilder AnswerNotModified<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status304NotModified));
        builder.AddEndpointFilter(async (invocation, next) =>
        {
            var answer = await next(invocation);
            var http = invocation.HttpContext;
            var result = answer;
            while (result is INestedHttpResult nested)
            {
                result = nested.Result;
            }

            return result is IStatusCodeHttpResult { StatusCode: StatusCodes.Status200OK }
                && HttpMethods.IsGet(http.Request.Method)
                && http.Response.Headers.ETag is { Count: 1 } etag
                && Matches(http.Request.Headers.IfNoneMatch, etag.ToString())
                ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
                : answer;
        });
        return builder;
    }

    private static bool Matches(Microsoft.Extensions.Primitives.StringValues ifNoneMatch, string etag)
    {
        if (ifNoneMatch.Count == 0 || !EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags)
            || !EntityTagHeaderValue.TryParse(etag, out var current))
        {
            return false;
        }

        return tags.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(current, useStrongComparison: false));
    }
}
