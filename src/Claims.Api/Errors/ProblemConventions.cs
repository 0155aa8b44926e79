using Claims.Api.Http;
using Claims.Api.Validation;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace Claims.Api.Errors;

public static class ProblemConventions
{
    /// <summary>
    /// Declares the problems any endpoint can answer with, so the OpenAPI document lists every
    /// status: 413 and 415 where a JSON body is read, 503 while the database is unreachable or
    /// slower than the request's deadline, and on writes 504 when a COMMIT went unconfirmed.
    /// </summary>
    public static TBuilder WithCommonProblems<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        // Finally: the inferred body metadata (IAcceptsMetadata) is only there after the other conventions.
        builder.Finally(endpoint =>
        {
            if (endpoint.Metadata.OfType<IAcceptsMetadata>().Any())
            {
                endpoint.Metadata.Add(Problem(StatusCodes.Status413PayloadTooLarge));
                endpoint.Metadata.Add(Problem(StatusCodes.Status415UnsupportedMediaType));
            }

            endpoint.Metadata.Add(Problem(StatusCodes.Status503ServiceUnavailable));
            if (Writes(endpoint.Metadata))
            {
                endpoint.Metadata.Add(Problem(StatusCodes.Status504GatewayTimeout));
            }
        });
        return builder;
    }

    private static bool Writes(IList<object> metadata) =>
        !metadata.OfType<ReadsOnlyMetadata>().Any()
        && metadata.OfType<IHttpMethodMetadata>().LastOrDefault()?.HttpMethods
            .Any(method => !HttpMethods.IsGet(method) && !HttpMethods.IsHead(method) && !HttpMethods.IsOptions(method)) == true;

    private static ProducesResponseTypeMetadata Problem(int status) =>
        new(status, typeof(ProblemDetails), ["application/problem+json"]);
}
