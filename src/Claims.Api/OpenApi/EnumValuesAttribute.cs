using Claims.Api.Json;
namespace Claims.Api.OpenApi;

/// <summary>
/// Marks a string query parameter that takes the values of an enumeration, spelled as in JSON.
/// Query strings bind enumerations by their C# names, which would refuse 'in_review'; so such
/// parameters stay strings, validated against <see cref="EnumNames{T}"/>, and this attribute
/// lists the values in the OpenAPI document.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class EnumValuesAttribute(Type enumType) : Attribute
{
    public Type EnumType { get; } = enumType;
}

/// <summary>
/// Names the schema of a string parameter whose [AllowedValues] are an enumeration of their own
/// (such as the sort orders), so the document declares it once and clients get a type for it.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class SharedEnumAttribute(string schemaName) : Attribute
{
    public string SchemaName { get; } = schemaName;
}
