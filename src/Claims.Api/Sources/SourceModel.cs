using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Claims.Api.Claims;
using Claims.Api.Evidence;
using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Api.OpenApi;
using Claims.Api.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;

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
    [property: MaxLength(200)] string Name,
    SourceKind Kind,
    [property: MaxLength(2000)] string? Description,
    [property: MaxLength(2048)] string? Url,
    Reliability Reliability,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    int Version,
    [property: Description("The name of the API key that logged it."), MaxLength(100)] string? CreatedBy) : IHasETag;

/// <summary>The editable fields of a source, for create and replace.</summary>
public sealed record SourceRequest(
    [property: Description("Who or what the source is, as journalists name it. 1 to 200 characters."), Required, MaxLength(200)] string? Name,
    [property: Description("What kind of voice the source is."), Required] SourceKind? Kind,
    [property: Description("Context: role, affiliation, why it matters. At most 2000 characters."), MaxLength(2000)] string? Description,
    [property: Description("Home page or profile, absolute http(s) URL."), MaxLength(2048)] string? Url,
    [property: Description("Admiralty reliability grade A-F of the source's track record. Default F (cannot be judged).")] Reliability? Reliability);

/// <summary>
/// A JSON merge patch of a source (RFC 7396, sent as application/merge-patch+json): only the
/// fields to change. Null removes a field, fields left out are kept; read-only fields are refused.
/// The result must pass the rules of PUT.
/// </summary>
public sealed record SourcePatch(
    [property: Description("Who or what the source is, as journalists name it, 1 to 200 characters. Cannot be removed (null)."), MaxLength(200)] string Name,
    [property: Description("What kind of voice the source is. Cannot be removed (null).")] SourceKind Kind,
    [property: Description("Context: role, affiliation, why it matters; at most 2000 characters; null removes it."), MaxLength(2000)] string? Description,
    [property: Description("Home page or profile, absolute http(s) URL; null removes it."), MaxLength(2048)] string? Url,
    [property: Description("Admiralty reliability grade A-F; null sets it back to F (cannot be judged).")] Reliability? Reliability);

/// <summary>The row as Dapper reads it: enumerations arrive as the text the database stores.</summary>
internal sealed record SourceRow(
    Guid Id, string Name, string Kind, string? Description, string? Url, string Reliability,
    DateTime CreatedAt, DateTime UpdatedAt, int Version, string? CreatedBy) : IPatchableRow<SourceRequest, Source>
{
    /// <summary>The editable fields, as a PUT body would give them.</summary>
    public SourceRequest ToFields() => new(Name, EnumNames<SourceKind>.Parse(Kind), Description, Url, EnumNames<Reliability>.Parse(Reliability));

    public Source ToResource() => ToSource();

    public Source ToSource() => new(
        Id, Name, EnumNames<SourceKind>.Parse(Kind), Description, Url, EnumNames<Reliability>.Parse(Reliability),
        CreatedAt, UpdatedAt, Version, CreatedBy);
}

/// <summary>Filters for GET /sources.</summary>
public sealed record SourceQuery(
    [property: Description("Part of the name, typos allowed: 'suspil' finds Suspilne. Results then come best match first."), MaxLength(200)][FromQuery(Name = "q")] string? Q,
    [property: Description("Only sources of this kind."), EnumValues(typeof(SourceKind))][FromQuery(Name = "kind")] string? Kind,
    [property: Description("Only sources with this reliability grade."), EnumValues(typeof(Reliability))][FromQuery(Name = "reliability")] string? Reliability,
    [property: Description("Page size, 1 to 200. Default 50."), Range(1, 200)][FromQuery(Name = "limit")] int? Limit,
    [property: Description("The nextCursor of the previous page, as given, with the same filters."), MaxLength(CursorProtector.MaxLength)][FromQuery(Name = "cursor")] string? Cursor)
{
    public int Size => Limit ?? PageRequest.DefaultLimit;

    /// <summary>What a cursor of this query is bound to: the same filters, whatever their order.</summary>
    public string Scope => $"sources|q={VisibleText.OrNull(Q)}|kind={Kind}|reliability={Reliability}";
}

public sealed class SourceQueryValidator : AbstractValidator<SourceQuery>
{
    public SourceQueryValidator()
    {
        RuleFor(q => q.Q).MaximumLength(200).NoNulCharacter();
        RuleFor(q => q.Kind).OneOf<SourceQuery, SourceKind>();
        RuleFor(q => q.Reliability).OneOf<SourceQuery, Reliability>();
        RuleFor(q => q.Limit).InclusiveBetween(1, PageRequest.MaxLimit);
    }
}

/// <summary>A claim a source is linked to, with how the source stands towards it.</summary>
public sealed record SourceClaim(Guid EvidenceId, Stance Stance, int Credibility, DateTime LinkedAt, Claim Claim);

/// <summary>A claim row with the evidence link it was reached through.</summary>
internal sealed record SourceClaimRow : ClaimRow
{
    public Guid EvidenceId { get; init; }
    public string Stance { get; init; } = "";
    public short Credibility { get; init; }
    public DateTime LinkedAt { get; init; }

    public SourceClaim ToSourceClaim() => new(EvidenceId, EnumNames<Stance>.Parse(Stance), Credibility, LinkedAt, ToClaim());
}

internal sealed record RankedSourceRow
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string Kind { get; init; } = "";
    public string? Description { get; init; }
    public string? Url { get; init; }
    public string Reliability { get; init; } = "";
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public int Version { get; init; }
    public string? CreatedBy { get; init; }
    public float Score { get; init; }

    public Source ToSource() => new SourceRow(Id, Name, Kind, Description, Url, Reliability, CreatedAt, UpdatedAt, Version, CreatedBy).ToSource();
}
