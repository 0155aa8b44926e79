using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Claims.Api.Json;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Claims.Api.OpenApi;

/// <summary>
/// Swashbuckle recognises only the framework's string-enum converter; ours writes strings too, so
/// list each value as the API's own serializer spells it.
/// </summary>
public sealed class OpenApiEnums(IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : ISchemaFilter, IParameterFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete || !context.Type.IsEnum)
        {
            return;
        }

        concrete.Type = JsonSchemaType.String;
        concrete.Format = null;
        concrete.Enum = Values(context.Type);
    }

    public void Apply(IOpenApiParameter parameter, ParameterFilterContext context)
    {
        var attribute = context.PropertyInfo?.GetCustomAttribute<EnumValuesAttribute>()
            ?? context.ParameterInfo?.GetCustomAttribute<EnumValuesAttribute>();
        if (attribute is null || parameter.Schema is not OpenApiSchema schema)
        {
            return;
        }

        var target = schema.Items as OpenApiSchema ?? schema;
        target.Type = JsonSchemaType.String;
        target.Enum = Values(attribute.EnumType);
    }

    private List<JsonNode> Values(Type enumType) =>
        [.. Enum.GetValues(enumType).Cast<object>()
            .Select(value => JsonSerializer.SerializeToNode(value, enumType, json.Value.SerializerOptions)!)];
}
