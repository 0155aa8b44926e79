using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Claims.Api.Json;

namespace Claims.Api.Claims.Relations;

/// <summary>How one claim stands to another.</summary>
public enum ClaimRelationKind
{
    /// <summary>The same claim logged twice, in any language: the related claim is the canonical one, whose status counts.</summary>
    DuplicateOf,
    /// <summary>The two cannot both be true. Has no direction.</summary>
    Contradicts,
    /// <summary>The claim is a narrower or more specific version of the related one.</summary>
    Refines,
    /// <summary>Worth reading together. Has no direction.</summary>
    Related,
}

/// <summary>A new relation from the claim in the path to another.</summary>
public sealed record ClaimRelationRequest(
    [property: Description("duplicate_of (the claim in the path is the same claim as the related one, which becomes its canonical), contradicts, refines (the claim in the path is the narrower one) or related."), Required] ClaimRelationKind? Kind,
    [property: Description("The other claim's id."), Required] Guid? RelatedClaimId);

/// <summary>A claim as a relation shows it: enough to recognise it without reading it.</summary>
public sealed record RelatedClaim(
    Guid Id,
    [property: MaxLength(2000)] string Statement,
    [property: MaxLength(35)] string Language,
    ClaimStatus Status);

/// <summary>A relation between two claims: claim [kind] relatedClaim.</summary>
public sealed record ClaimRelation(
    Guid Id,
    ClaimRelationKind Kind,
    [property: Description("The claim the relation was recorded from: it is a duplicate of, contradicts, refines or is related to relatedClaim.")] RelatedClaim Claim,
    RelatedClaim RelatedClaim,
    DateTime CreatedAt,
    [property: Description("The name of the API key that recorded it."), MaxLength(100)] string? CreatedBy);

/// <summary>What a removed relation leaves in its event.</summary>
public sealed record ClaimRelationTombstone(Guid Id, Guid ClaimId, Guid RelatedClaimId);

internal sealed record ClaimRelationRow(
    Guid Id, string Kind, DateTime CreatedAt, string? CreatedBy,
    Guid ClaimId, string ClaimStatement, string ClaimLanguage, string ClaimStatus,
    Guid RelatedId, string RelatedStatement, string RelatedLanguage, string RelatedStatus)
{
    public ClaimRelation ToRelation() => new(
        Id, EnumNames<ClaimRelationKind>.Parse(Kind),
        new RelatedClaim(ClaimId, ClaimStatement, ClaimLanguage, EnumNames<Claims.ClaimStatus>.Parse(ClaimStatus)),
        new RelatedClaim(RelatedId, RelatedStatement, RelatedLanguage, EnumNames<Claims.ClaimStatus>.Parse(RelatedStatus)),
        CreatedAt, CreatedBy);
}
