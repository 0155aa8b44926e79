using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Claims.Api.OpenApi;

/// <summary>
/// A feature's examples for the Swagger UI, taken from the seed story so that "Try it out" starts
/// from something a reporter would really log. Each feature keeps its own next to its types.
/// </summary>
public interface IOpenApiExamples
{
    void Register(OpenApiExampleRegistry examples);
}

/// <summary>What the features register: an example per type.</summary>
public sealed class OpenApiExampleRegistry
{
    internal Dictionary<Type, object> Examples { get; } = [];

    public OpenApiExampleRegistry Add<T>(T example) where T : notnull
    {
        Examples.Add(typeof(T), example);
        return this;
    }
}

/// <summary>
/// Puts the features' examples into the schemas, serialized with the API's own JSON options, so
/// they are spelled exactly as the API spells them.
/// </summary>
public sealed class OpenApiExamples : ISchemaFilter
{
    private readonly OpenApiExampleRegistry _registry = new();
    private readonly JsonSerializerOptions _json;

    public OpenApiExamples(IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, IEnumerable<IOpenApiExamples> features)
    {
        _json = json.Value.SerializerOptions;
        foreach (var feature in features)
        {
            feature.Register(_registry);
        }
    }

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete)
        {
            return;
        }

        if (_registry.Examples.TryGetValue(context.Type, out var example))
        {
            concrete.Example = JsonSerializer.SerializeToNode(example, context.Type, _json);
        }
    }
}

public static class OpenApiExampleSetup
{
    /// <summary>Registers every <see cref="IOpenApiExamples"/> of <paramref name="assembly"/>, as validators are found.</summary>
    public static IServiceCollection AddOpenApiExamples(this IServiceCollection services, Assembly assembly)
    {
        foreach (var type in assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IOpenApiExamples).IsAssignableFrom(t)))
        {
            services.AddSingleton(typeof(IOpenApiExamples), type);
        }

        return services;
    }
}
