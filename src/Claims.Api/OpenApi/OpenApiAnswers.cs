using System.Text.Json;
using Claims.Api.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Claims.Api.OpenApi;

/// <summary>
/// An example body of one of an endpoint's answers, shown under that answer by its name: for an
/// answer whose schema is shared (a problem), where a schema's own example cannot say it.
/// </summary>
public sealed record AnswerExample(int StatusCode, string Name, string Summary, object Body);

/// <summary>
/// Completes every operation's responses with what the pipeline adds around the handler, so that
/// generated clients type it: the problems any request can meet (429 from the rate limiter, 500
/// from the exception handler), a body for every error (with the examples an endpoint declares),
/// 304 where If-None-Match is honoured, and the response headers each answer carries.
/// </summary>
public sealed class OpenApiAnswers(IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        operation.Responses ??= [];
        operation.Responses.TryAdd("429", new OpenApiResponse { Description = "Rate limit reached, or too many failed authentications from this address; Retry-After says when to try again." });
        operation.Responses.TryAdd("500", new OpenApiResponse { Description = "An unexpected failure. Nothing was changed unless the answer says so; quote the requestId when you report it." });
        if (metadata.OfType<IProducesResponseTypeMetadata>().Any(m => m.StatusCode == StatusCodes.Status304NotModified))
        {
            operation.Responses["304"] = new OpenApiResponse { Description = "Not Modified: If-None-Match names the current ETag. No body." };
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = HeaderNames.IfNoneMatch,
                In = ParameterLocation.Header,
                Description = "The ETag of your last read, such as \"3\": while it is still current the answer is 304 with no body.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = DocumentedHeaders.MaxETagLength },
            });
        }

        var problem = context.SchemaGenerator.GenerateSchema(typeof(ProblemDetails), context.SchemaRepository);
        var idempotent = metadata.OfType<AcceptsIdempotencyKey>().Any();
        var writes = !OpenApiHeaders.IsRead(context);
        foreach (var (code, response) in operation.Responses)
        {
            if (response is not OpenApiResponse concrete || !int.TryParse(code, out var status))
            {
                continue;
            }

            // Swashbuckle describes a declared response by its reason phrase; the metadata may say more.
            if (metadata.OfType<IProducesResponseTypeMetadata>().LastOrDefault(m => m.StatusCode == status && m.Description is not null) is { } declared)
            {
                concrete.Description = declared.Description;
            }

            if (status >= 400 && (concrete.Content is null || concrete.Content.Count == 0))
            {
                concrete.Content = new Dictionary<string, OpenApiMediaType>
                {
                    [Errors.ProblemWriter.ContentType] = new() { Schema = problem },
                };
            }

            foreach (var example in metadata.OfType<AnswerExample>().Where(e => e.StatusCode == status))
            {
                foreach (var media in concrete.Content?.Values ?? [])
                {
                    media.Examples ??= new Dictionary<string, IOpenApiExample>();
                    media.Examples[example.Name] = new OpenApiExample
                    {
                        Summary = example.Summary,
                        Value = JsonSerializer.SerializeToNode(example.Body, example.Body.GetType(), json.Value.SerializerOptions),
                    };
                }
            }

            var body = context.ApiDescription.SupportedResponseTypes.FirstOrDefault(r => r.StatusCode == status)?.Type;
            concrete.Headers = Headers(status, body, idempotent, writes, context.Document);
        }
    }

    private static Dictionary<string, IOpenApiHeader> Headers(int status, Type? body, bool idempotent, bool writes, OpenApiDocument document)
    {
        var names = new List<string>(DocumentedHeaders.OnEveryAnswer);
        if (writes && status is >= 200 and < 300)
        {
            names.Add(ConsistencyTokens.Header);
        }

        if (status == StatusCodes.Status304NotModified || (status is >= 200 and < 300 && body is not null && typeof(IHasETag).IsAssignableFrom(body)))
        {
            names.Add(HeaderNames.ETag);
        }

        if (status == StatusCodes.Status201Created)
        {
            names.Add(HeaderNames.Location);
            if (idempotent)
            {
                names.Add(Idempotency.ReplayedHeader);
            }
        }

        if (status == StatusCodes.Status200OK && body is not null && typeof(IPage).IsAssignableFrom(body))
        {
            names.Add(HeaderNames.Link);
        }

        if (status is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable)
        {
            names.Add(HeaderNames.RetryAfter);
        }

        return names.ToDictionary(name => name, IOpenApiHeader (name) => new OpenApiHeaderReference(name, document));
    }
}
