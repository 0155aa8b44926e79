using System.ComponentModel.DataAnnotations;
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
        if (parameter is not OpenApiParameter concrete || concrete.Schema is not OpenApiSchema schema)
        {
            return;
        }

        var attributes = (context.PropertyInfo as ICustomAttributeProvider ?? context.ParameterInfo)?.GetCustomAttributes(inherit: true) ?? [];
        IOpenApiSchema shared;
        int count;
        if (attributes.OfType<EnumValuesAttribute>().FirstOrDefault() is { } enumValues)
        {
            shared = context.SchemaGenerator.GenerateSchema(enumValues.EnumType, context.SchemaRepository);
            count = Enum.GetValues(enumValues.EnumType).Length;
        }
        else if (attributes.OfType<SharedEnumAttribute>().FirstOrDefault() is { } named
            && attributes.OfType<AllowedValuesAttribute>().FirstOrDefault() is { } allowed)
        {
            shared = SharedEnum(named.SchemaName, allowed, context);
            count = allowed.Values.Length;
        }
        else
        {
            return;
        }

        // The parameter refers to the schema the bodies use, so a generated client has one type
        // for a status whether it filters by it or reads it.
        if (schema.Type?.HasFlag(JsonSchemaType.Array) == true)
        {
            schema.Items = shared;
            schema.MaxItems ??= count;
        }
        else
        {
            concrete.Schema = shared;
        }
    }

    private static IOpenApiSchema SharedEnum(string name, AllowedValuesAttribute allowed, ParameterFilterContext context)
    {
        if (!context.SchemaRepository.Schemas.ContainsKey(name))
        {
            context.SchemaRepository.AddDefinition(name, new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Enum = [.. allowed.Values.OfType<string>().Select(value => (JsonNode)JsonValue.Create(value))],
            });
        }

        return new OpenApiSchemaReference(name, context.Document);
    }

    private List<JsonNode> Values(Type enumType) =>
        [.. Enum.GetValues(enumType).Cast<object>()
            .Select(value => JsonSerializer.SerializeToNode(value, enumType, json.Value.SerializerOptions)!)];
}
