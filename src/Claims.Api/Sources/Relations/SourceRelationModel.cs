using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Claims.Api.Evidence;
using Claims.Api.Json;

namespace Claims.Api.Sources.Relations;

/// <summary>How one source stands to another, for telling independent voices from repeated ones.</summary>
public enum SourceRelationKind
{
    /// <summary>The same government, owner or organisation (the Pentagon and the US Secretary of Defense). Has no direction.</summary>
    AffiliatedWith,
    /// <summary>The source routinely relays the related one (an outlet and the agency it quotes).</summary>
    Cites,
    /// <summary>The source's reports are taken from the related one's.</summary>
    DerivedFrom,
}

/// <summary>A new relation from the source in the path to another.</summary>
public sealed record SourceRelationRequest(
    [property: Description("affiliated_with (same government, owner or organisation; no direction), cites or derived_from (the source in the path relays the related one)."), Required] SourceRelationKind? Kind,
    [property: Description("The other source's id."), Required] Guid? RelatedSourceId);

/// <summary>A relation between two sources: source [kind] relatedSource.</summary>
public sealed record SourceRelation(
    Guid Id,
    SourceRelationKind Kind,
    [property: Description("The source the relation was recorded from: it is affiliated with, cites, or is derived from relatedSource.")] EvidenceSource Source,
    EvidenceSource RelatedSource,
    DateTime CreatedAt,
    [property: Description("The name of the API key that recorded it."), MaxLength(100)] string? CreatedBy);

/// <summary>What a removed relation leaves in its event.</summary>
public sealed record SourceRelationTombstone(Guid Id, Guid SourceId, Guid RelatedSourceId);

internal sealed record SourceRelationRow(
    Guid Id, string Kind, DateTime CreatedAt, string? CreatedBy,
    Guid SourceId, string SourceName, string SourceKind, string SourceReliability,
    Guid RelatedId, string RelatedName, string RelatedKind, string RelatedReliability)
{
    public SourceRelation ToRelation() => new(
        Id, EnumNames<SourceRelationKind>.Parse(Kind),
        new EvidenceSource(SourceId, SourceName, EnumNames<SourceKind>.Parse(SourceKind), EnumNames<Reliability>.Parse(SourceReliability)),
        new EvidenceSource(RelatedId, RelatedName, EnumNames<SourceKind>.Parse(RelatedKind), EnumNames<Reliability>.Parse(RelatedReliability)),
        CreatedAt, CreatedBy);
}
