using Claims.Api.Errors;
using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Api.Validation;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Claims.Api.OpenApi;

/// <summary>Marks an endpoint that needs If-Match (optimistic concurrency).</summary>
public sealed class RequiresIfMatch;

/// <summary>Marks an endpoint that honours Idempotency-Key.</summary>
public sealed class AcceptsIdempotencyKey;

public static class HeaderConventions
{
    /// <summary>The endpoint needs If-Match: the header in the document, and the 412 and 428 it can answer.</summary>
    public static TBuilder RequireIfMatch<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(
            new RequiresIfMatch(),
            new ProducesResponseTypeMetadata(StatusCodes.Status412PreconditionFailed, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), [ProblemWriter.ContentType]),
            new ProducesResponseTypeMetadata(StatusCodes.Status428PreconditionRequired, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), [ProblemWriter.ContentType]));

    /// <summary>The endpoint honours Idempotency-Key: the header in the document, and the 409 (still running) and 422 (another request) it can answer.</summary>
    public static TBuilder AcceptIdempotencyKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(
            new AcceptsIdempotencyKey(),
            new ProducesResponseTypeMetadata(StatusCodes.Status409Conflict, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), [ProblemWriter.ContentType]),
            new ProducesResponseTypeMetadata(StatusCodes.Status422UnprocessableEntity, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), [ProblemWriter.ContentType]));
}

/// <summary>Lists the If-Match, Idempotency-Key and Consistency-Token headers as parameters, so Swagger UI has fields for them.</summary>
public sealed class OpenApiHeaders : IOperationFilter
{
    /// <summary>Whether the operation only reads: GET and HEAD, and the look-ups sent as POST.</summary>
    public static bool IsRead(OperationFilterContext context) =>
        context.ApiDescription.HttpMethod is "GET" or "HEAD"
        || context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<ReadsOnlyMetadata>().Any();

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        if (IsRead(context))
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = ConsistencyTokens.Header,
                In = ParameterLocation.Header,
                Required = false,
                Description = "The Consistency-Token of your last write's answer: this read then includes that write, even where reads are served by a replica that has not caught up yet. Without it a read may miss the last second or so of writes.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = DocumentedHeaders.MaxConsistencyTokenLength },
            });
        }

        if (metadata.OfType<RequiresIfMatch>().Any())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "If-Match",
                In = ParameterLocation.Header,
                Required = true,
                Description = "The ETag of your last read of the claim or source, such as \"3\" (quotes included): exactly one; * and lists of tags are refused with 428.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = DocumentedHeaders.MaxETagLength },
            });
        }

        if (metadata.OfType<AcceptsIdempotencyKey>().Any())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = Idempotency.Header,
                In = ParameterLocation.Header,
                Required = false,
                Description = "Any unique string, such as a UUID: a retry with the same key and body replays the first answer instead of writing again.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = Idempotency.MaxKeyLength },
            });
        }
    }
}
