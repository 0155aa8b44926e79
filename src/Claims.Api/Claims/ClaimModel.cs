using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Claims.Api.Evidence;
using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Api.OpenApi;
using Claims.Api.Provenance;

namespace Claims.Api.Claims;

/// <summary>Where the verification of a claim stands.</summary>
public enum ClaimStatus
{
    /// <summary>Logged; no verification work yet (the default).</summary>
    Unverified,
    /// <summary>Someone is working on it.</summary>
    InReview,
    /// <summary>Independent evidence supports it.</summary>
    Confirmed,
    /// <summary>Credible sources contradict each other.</summary>
    Disputed,
    /// <summary>Evidence shows it is not true.</summary>
    False,
    /// <summary>No conclusion is possible with the evidence available.</summary>
    Inconclusive,
}

/// <summary>A statement someone made that the newsroom tracks, with its verification status.</summary>
public sealed record Claim(
    Guid Id,
    [property: MaxLength(2000)] string Statement,
    [property: MaxLength(4000)] string? Summary,
    [property: MaxLength(35)] string Language,
    [property: MaxLength(ClaimRules.MaxTags), ItemMaxLength(ClaimRules.MaxTagLength)] IReadOnlyList<string> Tags,
    DateOnly? FirstReportedOn,
    ClaimStatus Status,
    [property: MaxLength(2000)] string? StatusNote,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    int Version,
    [property: Description("The name of the API key that logged it."), MaxLength(100)] string? CreatedBy,
    [property: Description("The evidence linking sources to the claim, oldest first. In GET /claims/{id} and POST /claims; lists and PUT leave it out.")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<EvidenceItem>? Evidence = null,
    [property: Description("For each stance, the number of distinct origins behind its evidence: items whose chains end at the same source, or at sources joined by 'affiliated_with' or 'derived_from', count once. Beside evidence only.")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    EvidenceCounts? IndependentOrigins = null,
    [property: Description("Which evidence items collapse into which origin, and why: each origin that stands for more than one item or is reached through a chain, in the order their first items were linked (an item not listed is its own origin, its quoted source). Beside evidence only.")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<OriginGroup>? Origins = null,
    [property: Description("Set when the claim is recorded as a duplicate (duplicate_of): the claim at the end of its chain, whose status is authoritative. Its status look-up answers that claim's status, and lists leave it out unless includeDuplicates=true.")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    Guid? CanonicalClaimId = null) : IHasETag;

/// <summary>The editable fields of a claim, shared by create and replace.</summary>
public interface IClaimFields
{
    string? Statement { get; }
    string? Summary { get; }
    string? Language { get; }
    IReadOnlyList<string>? Tags { get; }
    DateOnly? FirstReportedOn { get; }
}

/// <summary>A new claim, optionally with the evidence that links it to existing sources.</summary>
public sealed record CreateClaimRequest(
    [property: Description("The claim as one checkable sentence. 1 to 2000 characters."), Required, MaxLength(2000)] string? Statement,
    [property: Description("Context for colleagues. At most 4000 characters."), MaxLength(4000)] string? Summary,
    [property: Description("BCP 47 language tag of the statement, such as en, uk, ru or ko. Default en."), MaxLength(35)] string? Language,
    [property: Description("Lowercase slugs such as north-korea; trimmed, lower-cased and de-duplicated. At most 20."), MaxLength(ClaimRules.MaxTags), ItemMaxLength(ClaimRules.MaxTagLength)] IReadOnlyList<string>? Tags,
    [property: Description("The day the claim was first reported (ISO date).")] DateOnly? FirstReportedOn,
    [property: Description("Evidence linking existing sources to the claim, stored with it in one transaction. At most 50."), MaxLength(50)] IReadOnlyList<EvidenceRequest>? Evidence,
    [property: Description("true: look for near-duplicates first (the claims GET /claims/similar would give at a score of at least Claims:DuplicateScore, 0.6 by default) and, if there are any, log nothing and answer 409 possible-duplicates listing them. Default false: log the claim whatever is logged already. Not part of the request an Idempotency-Key stands for.")] bool? CheckDuplicates = null)
    : IClaimFields;

/// <summary>The editable fields of a claim; the status moves through PUT /claims/{id}/status instead.</summary>
public sealed record ClaimRequest(
    [property: Description("The claim as one checkable sentence. 1 to 2000 characters."), Required, MaxLength(2000)] string? Statement,
    [property: Description("Context for colleagues. At most 4000 characters."), MaxLength(4000)] string? Summary,
    [property: Description("BCP 47 language tag of the statement, such as en, uk, ru or ko. Default en."), MaxLength(35)] string? Language,
    [property: Description("Lowercase slugs such as north-korea; trimmed, lower-cased and de-duplicated. At most 20."), MaxLength(ClaimRules.MaxTags), ItemMaxLength(ClaimRules.MaxTagLength)] IReadOnlyList<string>? Tags,
    [property: Description("The day the claim was first reported (ISO date).")] DateOnly? FirstReportedOn)
    : IClaimFields;

/// <summary>
/// A JSON merge patch of a claim (RFC 7396, sent as application/merge-patch+json): only the fields
/// to change. Null removes a field, an array replaces the whole array, fields left out are kept;
/// read-only fields are refused. The result must pass the rules of PUT.
/// </summary>
public sealed record ClaimPatch(
    [property: Description("The claim as one checkable sentence, 1 to 2000 characters. Cannot be removed (null)."), MaxLength(2000)] string Statement,
    [property: Description("Context for colleagues, at most 4000 characters; null removes it."), MaxLength(4000)] string? Summary,
    [property: Description("BCP 47 language tag of the statement, such as en, uk, ru or ko; null sets it back to en."), MaxLength(35)] string? Language,
    [property: Description("The claim's tags, replacing all of them: lowercase slugs such as north-korea, at most 20; null removes them all."), MaxLength(ClaimRules.MaxTags), ItemMaxLength(ClaimRules.MaxTagLength)] IReadOnlyList<string>? Tags,
    [property: Description("The day the claim was first reported (ISO date); null removes it.")] DateOnly? FirstReportedOn);

/// <summary>
/// The row as Dapper reads it. Properties rather than a positional record: Npgsql reports text[]
/// as System.Array, which Dapper's constructor matching refuses but its property mapping casts.
/// </summary>
internal record ClaimRow : IPatchableRow<ClaimRequest, Claim>
{
    public Guid Id { get; init; }
    public string Statement { get; init; } = "";
    public string? Summary { get; init; }
    public string Language { get; init; } = "";
    public string[] Tags { get; init; } = [];
    public DateOnly? FirstReportedOn { get; init; }
    public string Status { get; init; } = "";
    public string? StatusNote { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public int Version { get; init; }
    public string? CreatedBy { get; init; }
    public Guid? CanonicalClaimId { get; init; }

    /// <summary>Only in the read of one claim: whether other claims are recorded as its duplicates.</summary>
    public bool HasDuplicates { get; init; }

    /// <summary>The editable fields, as a PUT body would give them.</summary>
    public ClaimRequest ToFields() => new(Statement, Summary, Language, Tags, FirstReportedOn);

    public Claim ToResource() => ToClaim();

    public Claim ToClaim(IReadOnlyList<EvidenceItem>? evidence = null) => new(
        Id, Statement, Summary, Language, Tags, FirstReportedOn, EnumNames<ClaimStatus>.Parse(Status), StatusNote,
        CreatedAt, UpdatedAt, Version, CreatedBy, evidence, CanonicalClaimId: CanonicalClaimId);

    /// <summary>
    /// The claim with its evidence and the origins that evidence comes down to: the first
    /// <paramref name="own"/> items of <paramref name="evidence"/> are the claim's, the rest its
    /// duplicates', which count toward its origins.
    /// </summary>
    public Claim ToClaim(IReadOnlyList<EvidenceItem> evidence, IReadOnlyList<Guid?> originKeys, int own)
    {
        var (groups, counts) = Provenance.Origins.Of(evidence, originKeys);
        return ToClaim(own == evidence.Count ? evidence : [.. evidence.Take(own)]) with { IndependentOrigins = counts, Origins = groups };
    }
}

/// <summary>A claim row with the sort key that only searches compute.</summary>
internal sealed record RankedClaimRow : ClaimRow
{
    public float Rank { get; init; }

    /// <summary>With sort=relevance: how many matches the ranked window holds.</summary>
    public long WindowSize { get; init; }
}

/// <summary>A near-duplicate of a proposed statement.</summary>
public sealed record SimilarClaim(
    [property: Description("Trigram similarity of the statements, 0 (nothing shared) to 1 (the same).")] double Score,
    Claim Claim,
    [property: Description("At a score of Claims:DuplicateScore (0.6 by default) or more: the relation to record if a person judges the claims the same, POST /claims/{yourClaimId}/relations with this body. It names the claim's canonical when the claim is itself a duplicate. Nothing is linked or merged without that request.")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    Relations.ClaimRelationRequest? Suggested = null);
