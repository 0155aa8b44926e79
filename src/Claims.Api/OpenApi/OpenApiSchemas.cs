using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Claims.Api.OpenApi;

/// <summary>
/// Makes the schemas say what goes over the wire, so that generated clients type it:
/// an answer's properties are all sent (null where nullable), so they are required; answers may
/// gain properties later, so their schemas stay open, while request bodies stay closed because
/// the API refuses unknown properties; every string and integer states its bounds.
/// </summary>
public sealed class OpenApiSchemas(IApiDescriptionGroupCollectionProvider apis) : ISchemaFilter
{
    // An ISO 8601 instant with seven decimals and an offset is 33 characters.
    private const int MaxDateTimeLength = 40;

    private HashSet<Type>? _requestTypes;

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete)
        {
            return;
        }

        if (context.Type == typeof(ProblemDetails) || context.Type == typeof(HttpValidationProblemDetails))
        {
            DescribeProblem(concrete, context.Type == typeof(HttpValidationProblemDetails));
            return;
        }

        Bound(concrete, context.MemberInfo ?? (MemberInfo?)context.ParameterInfo?.Member);
        if (concrete.Properties is not { Count: > 0 } properties || context.MemberInfo is not null)
        {
            return;
        }

        foreach (var property in properties.Values.OfType<OpenApiSchema>())
        {
            Bound(property, null);
        }

        if (RequestTypes().Contains(context.Type))
        {
            return;
        }

        concrete.AdditionalPropertiesAllowed = true;
        concrete.AdditionalProperties = null;
        var optional = context.Type.GetProperties()
            .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is { Condition: not JsonIgnoreCondition.Never })
            .Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name))
            .ToHashSet();
        concrete.Required = properties.Keys.Where(name => !optional.Contains(name)).ToHashSet();
        AllowNullEnumerations(context.Type, properties);
    }

    /// <summary>
    /// A $ref cannot say nullable in OpenAPI 3.0, so an answer's nullable enumeration (such as
    /// StatusChange.fromStatus) becomes allOf the reference, marked nullable; the document filter
    /// adds the type that 3.0 wants beside nullable once every schema is known.
    /// </summary>
    private static void AllowNullEnumerations(Type type, IDictionary<string, IOpenApiSchema> properties)
    {
        foreach (var member in type.GetProperties())
        {
            var name = JsonNamingPolicy.CamelCase.ConvertName(member.Name);
            if (Nullable.GetUnderlyingType(member.PropertyType) is { IsEnum: true }
                && properties.TryGetValue(name, out var property) && property is OpenApiSchemaReference reference)
            {
                properties[name] = new OpenApiSchema
                {
                    AllOf = [reference],
                    Type = JsonSchemaType.Null,
                    Description = member.GetCustomAttribute<System.ComponentModel.DescriptionAttribute>()?.Description,
                };
            }
        }
    }

    private static void Bound(OpenApiSchema schema, MemberInfo? member)
    {
        if (schema.Type?.HasFlag(JsonSchemaType.Integer) == true)
        {
            // Every integer the API speaks (versions, counts, sizes, grades) is at least 0.
            schema.Minimum ??= "0";
            schema.Maximum ??= schema.Format == "int64" ? long.MaxValue.ToString() : int.MaxValue.ToString();
        }

        if (schema.Type?.HasFlag(JsonSchemaType.String) == true && schema.MaxLength is null && schema.Enum is not { Count: > 0 })
        {
            schema.MaxLength = schema.Format switch
            {
                "uuid" => 36,
                "date" => 10,
                "date-time" => MaxDateTimeLength,
                _ => null,
            };
        }

        if (schema.Items is OpenApiSchema { MaxLength: null } items && items.Type?.HasFlag(JsonSchemaType.String) == true
            && member?.GetCustomAttribute<ItemMaxLengthAttribute>() is { } itemMax)
        {
            items.MaxLength = itemMax.Length;
        }
    }

    private static void DescribeProblem(OpenApiSchema schema, bool validation)
    {
        schema.Description = validation
            ? "A problem (RFC 9457) for a request that is not valid: errors lists what is wrong, by field."
            : "A problem (RFC 9457): type identifies the kind of error (GET it for an explanation), title is fixed per type, detail says what happened this time.";
        schema.AdditionalPropertiesAllowed = true;
        schema.AdditionalProperties = null;
        schema.Properties ??= new Dictionary<string, IOpenApiSchema>();
        schema.Properties["type"] = Text("The kind of error: a URI reference such as /problems/confirm-needs-support, stable per kind; GET it for a page that explains it.", 200, "uri-reference");
        schema.Properties["title"] = Text("A short summary, the same for every problem of this type.", 200);
        schema.Properties["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "400", Maximum = "599", Description = "The HTTP status code." };
        schema.Properties["detail"] = Text("What happened this time, in a sentence or two.", 4000);
        schema.Properties["instance"] = Text("The request path that failed, when given.", 2048);
        schema.Properties["traceId"] = Text("The W3C trace id of the request.", 100);
        schema.Properties["requestId"] = Text("The request id, as in the X-Request-Id header and the logs.", 64);
        schema.Required = new HashSet<string> { "type", "title", "status", "traceId", "requestId" };
        if (validation && schema.Properties.TryGetValue("errors", out var errors) && errors is OpenApiSchema errorMap)
        {
            errorMap.Description = "What is wrong, by field name (camelCase, as in the request).";
            errorMap.MaxProperties = Validation.ValidationFilter.MaxErrors;
            errorMap.AdditionalProperties = new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                MaxItems = Validation.ValidationFilter.MaxErrors,
                Items = Text(null, 1000),
            };
            schema.Required.Add("errors");
        }
    }

    private static OpenApiSchema Text(string? description, int maxLength, string? format = null) =>
        new() { Type = JsonSchemaType.String, MaxLength = maxLength, Format = format, Description = description };

    /// <summary>The types read from request bodies, with the types they contain.</summary>
    private HashSet<Type> RequestTypes()
    {
        if (_requestTypes is { } known)
        {
            return known;
        }

        var found = new HashSet<Type>();
        var descriptions = apis.ApiDescriptionGroups.Items.SelectMany(g => g.Items).ToList();
        var bodies = descriptions
            .SelectMany(d => d.ParameterDescriptions)
            .Where(p => p.Source == BindingSource.Body && p.Type is not null)
            .Select(p => p.Type!)
            .Concat(descriptions.SelectMany(d => d.ActionDescriptor.EndpointMetadata.OfType<Http.MergePatchBody>()).Select(b => b.Patch));
        foreach (var body in bodies)
        {
            Collect(body, found);
        }

        return _requestTypes = found;
    }

    private static void Collect(Type type, HashSet<Type> found)
    {
        var element = Nullable.GetUnderlyingType(type) ?? type;
        if (element.IsGenericType)
        {
            foreach (var argument in element.GetGenericArguments())
            {
                Collect(argument, found);
            }

            return;
        }

        if (element.IsPrimitive || element.IsEnum || element.Namespace?.StartsWith("System", StringComparison.Ordinal) == true || !found.Add(element))
        {
            return;
        }

        foreach (var property in element.GetProperties())
        {
            Collect(property.PropertyType, found);
        }
    }
}
