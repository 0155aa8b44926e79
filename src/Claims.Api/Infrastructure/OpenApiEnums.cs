using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Claims.Api.Infrastructure;

/// <summary>
/// Swashbuckle recognises only the framework's string-enum converter; ours writes strings too, so
/// list each value as the API's own serializer spells it.
/// </summary>
public sealed class OpenApiEnums(IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete || !context.Type.IsEnum)
        {
            return;
        }

        concrete.Type = JsonSchemaType.String;
        concrete.Format = null;
        concrete.Enum = [.. Enum.GetValues(context.Type).Cast<object>()
            .Select(value => JsonSerializer.SerializeToNode(value, context.Type, json.Value.SerializerOptions)!)];
    }
}
