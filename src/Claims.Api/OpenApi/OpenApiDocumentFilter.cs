using System.Text.Json.Nodes;
using Claims.Api.Http;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Claims.Api.OpenApi;

/// <summary>
/// What the document says as a whole: where the API is, what each tag covers, the response
/// headers the operations refer to, and the health endpoints, which the health-check middleware
/// serves outside the endpoints the API explorer lists.
/// </summary>
public sealed class OpenApiDocumentFilter(IWebHostEnvironment environment) : IDocumentFilter
{
    private static readonly Dictionary<string, string> Tags = new()
    {
        ["Claims"] = "Statements the newsroom tracks: log, search, read, edit and delete them, and find near-duplicates before logging.",
        ["Evidence"] = "Links between a claim and the sources that asserted, supported, refuted, mentioned or could not verify it, with the exact quote.",
        ["Verification"] = "A claim's verification status, the reason recorded with each change, its history, and the small status answer clients poll.",
        ["Sources"] = "People, outlets, agencies and documents, with their reliability grade, and the claims each one is cited for.",
        ["Stats"] = "Counts for dashboards.",
        ["Publishing"] = "Verdicts as schema.org ClaimReview in JSON-LD, the markup fact-check aggregators ingest: one claim's, or all of them as a DataFeed to harvest.",
        ["Imports"] = "Claims in bulk from NDJSON (the export's own format) or a spreadsheet's CSV, as jobs that report on every line: created, unchanged, or rejected with the field and why.",
        ["Events"] = "Every change to claims, evidence and sources as a CloudEvent, in commit order: the feed to page through with after=, and the same events live as Server-Sent Events, so that a client stays in sync without polling the lists.",
        ["Webhooks"] = "Signed pushes of the same events to a partner's https URL (Standard Webhooks 1.0): subscriptions, their secrets, and each delivery's attempts (admin only).",
        ["Admin"] = "API keys and their roles (admin only).",
        ["Desk"] = "Sign-in for the desk, the web page served at /: an API key sent once for an HttpOnly session cookie, and the CSRF token that the page's writes carry; no key needed.",
        ["Health"] = "Liveness and readiness probes for orchestrators and load balancers; no key needed.",
        ["Problems"] = "The kinds of error the API answers with, one page each; no key needed.",
    };

    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        document.Info.Contact = new OpenApiContact { Name = "The Claims API team" };
        // The description is offered under Apache 2.0 so that partners may generate and ship
        // clients from it; the service behind it is not open source.
        document.Info.License = new OpenApiLicense { Name = "Apache 2.0 (this API description)", Url = new Uri("https://www.apache.org/licenses/LICENSE-2.0") };

        // Relative, so the document is right wherever it is served from, behind a proxy too.
        var server = new OpenApiServer
        {
            Url = "/",
            Description = $"This server, as the document was fetched from it ({EnvironmentWord()}).",
            Extensions = new Dictionary<string, IOpenApiExtension> { ["x-internal"] = new JsonNodeExtension(JsonValue.Create(false)) },
        };
        document.Servers = [server];

        DocumentedHeaders.AddTo(document);
        AddHealth(document, context);
        MarkAnonymous(document);
        TypeNullableReferences(document);
        document.Tags = Tags
            .Where(tag => tag.Key is "Health" || document.Paths.Values.Any(path => path.Operations?.Values.Any(op => op.Tags?.Any(t => t.Name == tag.Key) == true) == true))
            .Select(tag => new OpenApiTag { Name = tag.Key, Description = tag.Value })
            .ToHashSet();
    }

    /// <summary>States "no key needed" on the operations that need none, rather than leaving it unsaid.</summary>
    private static void MarkAnonymous(OpenApiDocument document)
    {
        foreach (var operation in document.Paths.Values.SelectMany(path => path.Operations?.Values.AsEnumerable() ?? []))
        {
            operation.Security ??= [];
        }
    }

    /// <summary>
    /// A nullable reference is written as allOf with nullable, and OpenAPI 3.0 gives nullable a
    /// meaning only beside a type: repeat the referenced schema's type there.
    /// </summary>
    private static void TypeNullableReferences(OpenApiDocument document)
    {
        var schemas = document.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>();
        foreach (var property in schemas.Values.OfType<OpenApiSchema>().SelectMany(schema => schema.Properties?.Values ?? []).OfType<OpenApiSchema>())
        {
            if (property is { AllOf: [OpenApiSchemaReference reference] } && property.Type == JsonSchemaType.Null
                && reference.Reference.Id is { } id && schemas.TryGetValue(id, out var target) && target.Type is { } type)
            {
                property.Type = type | JsonSchemaType.Null;
                // The bound the referenced enumeration implies, stated where a linter looks for it.
                property.MaxLength ??= target.Enum?.Max(value => value?.ToString().Length);
            }
        }
    }

    // The OWASP ruleset asks servers to name their environment in words such as local or production.
    private string EnvironmentWord() =>
        environment.IsDevelopment() ? "local development" : environment.IsProduction() ? "production" : environment.EnvironmentName.ToLowerInvariant();

    private static void AddHealth(OpenApiDocument document, DocumentFilterContext context)
    {
        var answer = context.SchemaGenerator.GenerateSchema(typeof(HealthAnswer), context.SchemaRepository);
        var problem = context.SchemaGenerator.GenerateSchema(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), context.SchemaRepository);
        Add("/health/live", "Liveness: the process answers", "Always 200 while the process runs; it does not ask the database.", nameof(HealthEndpoints) + "Live");
        Add("/health/ready", "Readiness: the database answers", "200 when the database answers within 1.5 s, 503 with the failing checks otherwise: take the instance out of the balancer while it is not ready.", nameof(HealthEndpoints) + "Ready");

        void Add(string path, string summary, string description, string operationId)
        {
            // Probes are never rate limited, so an orchestrator is never refused.
            var headers = DocumentedHeaders.Unlimited.ToDictionary(name => name, IOpenApiHeader (name) => new OpenApiHeaderReference(name, document));
            var operation = new OpenApiOperation
            {
                OperationId = operationId,
                Summary = summary,
                Description = description,
                Tags = new HashSet<OpenApiTagReference> { new("Health", document) },
                Responses = new OpenApiResponses
                {
                    ["200"] = new OpenApiResponse
                    {
                        Description = "Healthy.",
                        Headers = headers,
                        Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = answer } },
                    },
                    ["4XX"] = new OpenApiResponse
                    {
                        Description = "The request is malformed (a request line over 8 KB, headers over 32 KB): the web server answers before the API sees it, without a body.",
                    },
                    ["503"] = ProblemResponse("Not ready: the problem names the failing checks.", headers, problem),
                },
            };
            document.Paths[path] = new OpenApiPathItem { Operations = new Dictionary<HttpMethod, OpenApiOperation> { [HttpMethod.Get] = operation } };
        }
    }

    private static OpenApiResponse ProblemResponse(string description, Dictionary<string, IOpenApiHeader> headers, IOpenApiSchema problem) => new()
    {
        Description = description,
        Headers = headers,
        Content = new Dictionary<string, OpenApiMediaType> { [Errors.ProblemWriter.ContentType] = new() { Schema = problem } },
    };
}
