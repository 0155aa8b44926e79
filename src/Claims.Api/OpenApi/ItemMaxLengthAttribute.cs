namespace Claims.Api.OpenApi;

/// <summary>
/// The longest item of a list of strings, for the OpenAPI document: [MaxLength] on a list counts
/// its items, and attributes cannot reach the items themselves.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class ItemMaxLengthAttribute(int length) : Attribute
{
    public int Length { get; } = length;
}
