using System.Text.Json.Nodes;
using Claims.Api.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Claims.Api.Auth;

/// <summary>Marks the operations that need a key, with the role they need, so Swagger UI sends the key it was given.</summary>
public sealed class OpenApiSecurity : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var policies = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>()
            .Select(a => a.Policy).OfType<string>().ToList();
        if (policies.Count == 0)
        {
            return;
        }

        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement
        {
            [new OpenApiSecuritySchemeReference(ApiKeyHandler.SchemeName, context.Document)] = [],
        });
        operation.Description = $"{operation.Description} Role: {string.Join(", ", policies)} or higher.".Trim();
        // The same, for tools: the lowest role whose key may call the operation.
        operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
        operation.Extensions["x-required-role"] = new JsonNodeExtension(JsonValue.Create(policies[0]));
        operation.Responses ??= [];
        operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No valid API key: missing, unknown or revoked." });
        operation.Responses.TryAdd("403", new OpenApiResponse { Description = "The key's role is too low for this operation." });
    }
}
