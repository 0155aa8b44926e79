using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Claims.Api.Infrastructure;

namespace Claims.Api.Sources;

/// <summary>What kind of voice a source is.</summary>
public enum SourceKind
{
    Person,
    Outlet,
    Government,
    Organization,
    Document,
    SocialMedia,
    Anonymous,
}

/// <summary>
/// Admiralty (NATO STANAG 2511) source reliability: A completely reliable, B usually reliable,
/// C fairly reliable, D not usually reliable, E unreliable, F cannot be judged (the default).
/// </summary>
public enum Reliability
{
    [JsonStringEnumMemberName("A")] A,
    [JsonStringEnumMemberName("B")] B,
    [JsonStringEnumMemberName("C")] C,
    [JsonStringEnumMemberName("D")] D,
    [JsonStringEnumMemberName("E")] E,
    [JsonStringEnumMemberName("F")] F,
}

/// <summary>A person, outlet, agency or document that made, backed, refuted or could not verify claims.</summary>
public sealed record Source(
    Guid Id,
    string Name,
    SourceKind Kind,
    string? Description,
    string? Url,
    Reliability Reliability,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    int Version);

/// <summary>The editable fields of a source, for create and replace.</summary>
public sealed record SourceRequest(
    [property: Description("Who or what the source is, as journalists name it. 1 to 200 characters."), Required] string? Name,
    [property: Description("What kind of voice the source is."), Required] SourceKind? Kind,
    [property: Description("Context: role, affiliation, why it matters. At most 2000 characters.")] string? Description,
    [property: Description("Home page or profile, absolute http(s) URL.")] string? Url,
    [property: Description("Admiralty reliability grade A-F of the source's track record. Default F (cannot be judged).")] Reliability? Reliability);

/// <summary>The row as Dapper reads it: enumerations arrive as the text the database stores.</summary>
internal sealed record SourceRow(
    Guid Id, string Name, string Kind, string? Description, string? Url, string Reliability,
    DateTime CreatedAt, DateTime UpdatedAt, int Version)
{
    public Source ToSource() => new(
        Id, Name, EnumNames<SourceKind>.Parse(Kind), Description, Url, EnumNames<Reliability>.Parse(Reliability),
        CreatedAt, UpdatedAt, Version);
}
