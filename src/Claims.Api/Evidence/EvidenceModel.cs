using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Claims.Api.Json;
using Claims.Api.Sources;

namespace Claims.Api.Evidence;

/// <summary>How a source stands towards a claim.</summary>
public enum Stance
{
    /// <summary>The source makes the claim itself.</summary>
    Asserts,
    /// <summary>The source corroborates it.</summary>
    Supports,
    /// <summary>The source contradicts it.</summary>
    Refutes,
    /// <summary>The source tried and could neither confirm nor deny it.</summary>
    UnableToVerify,
    /// <summary>The source reports that others claim it, without endorsing it.</summary>
    Mentions,
}

/// <summary>One link between a claim and a source: what the source said, and how far it can be believed.</summary>
public sealed record EvidenceItem(
    Guid Id,
    Guid ClaimId,
    EvidenceSource Source,
    Stance Stance,
    [property: MaxLength(4000)] string? Quote,
    [property: MaxLength(2048)] string? Url,
    DateTime? PublishedAt,
    [property: MaxLength(2000)] string? Note,
    int Credibility,
    DateTime CreatedAt,
    [property: Description("The name of the API key that linked it."), MaxLength(100)] string? CreatedBy);

/// <summary>The cited source, as much of it as a reader of the evidence needs.</summary>
public sealed record EvidenceSource(Guid Id, [property: MaxLength(200)] string Name, SourceKind Kind, Reliability Reliability);

/// <summary>A new evidence link.</summary>
public sealed record EvidenceRequest(
    [property: Description("The id of an existing source."), Required] Guid? SourceId,
    [property: Description("How the source stands towards the claim."), Required] Stance? Stance,
    [property: Description("The source's exact words. At most 4000 characters."), MaxLength(4000)] string? Quote,
    [property: Description("Where the source said it: absolute http(s) URL of the article, post or document."), MaxLength(2048)] string? Url,
    [property: Description("When the source published it (ISO 8601 with offset).")] DateTimeOffset? PublishedAt,
    [property: Description("The journalist's note on this link. At most 2000 characters."), MaxLength(2000)] string? Note,
    [property: Description("Admiralty information credibility, 1 (confirmed by other sources) to 6 (cannot be judged). Default 6."), Range(1, 6)] int? Credibility);

internal sealed record EvidenceRow(
    Guid Id, Guid ClaimId, Guid SourceId, string SourceName, string SourceKind, string SourceReliability,
    string Stance, string? Quote, string? Url, DateTime? PublishedAt, string? Note, short Credibility, DateTime CreatedAt, string? CreatedBy)
{
    public EvidenceItem ToItem() => new(
        Id, ClaimId,
        new EvidenceSource(SourceId, SourceName, EnumNames<SourceKind>.Parse(SourceKind), EnumNames<Reliability>.Parse(SourceReliability)),
        EnumNames<Stance>.Parse(Stance), Quote, Url, PublishedAt, Note, Credibility, CreatedAt, CreatedBy);
}
