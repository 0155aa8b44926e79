using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Claims.Api.Evidence;

namespace Claims.Api.Provenance;

/// <summary>
/// A claim's evidence items that come down to one origin, counted once: items whose chains end at
/// the same source, or at sources that are one ('affiliated_with' or 'derived_from', transitively).
/// </summary>
public sealed record OriginGroup(
    [property: Description("The origin: the source the items trace back to, or for sources joined by relations, the group's id (its smallest source id).")] Guid Id,
    [property: Description("The sources at the end of the items' chains that make up this origin.")] IReadOnlyList<EvidenceSource> Sources,
    [property: Description("The evidence items that trace back to it.")] IReadOnlyList<Guid> EvidenceIds,
    [property: Description("The stances of those items, each once."), MaxLength(5)] IReadOnlyList<Stance> Stances,
    [property: Description("Why these items count as one, in words."), MaxLength(1000)] string Reason);

/// <summary>An evidence item the verdict rules did not count, and why.</summary>
public sealed record DiscountedEvidence(
    Guid EvidenceId,
    Guid SourceId,
    [property: Description("The item's origin: the last source of its chain, or the quoted source.")] Guid OriginSourceId,
    [property: Description("Why it does not count, in words."), MaxLength(1000)] string Reason);

/// <summary>One evidence item as the rules see it: its stance and where it comes from.</summary>
internal sealed record TracedEvidence(Guid EvidenceId, string Stance, Guid SourceId, Guid OriginSourceId, string OriginName, Guid? OriginGroupId, Guid ClaimId)
{
    /// <summary>Items with the same key have one origin.</summary>
    public Guid Origin => OriginGroupId ?? OriginSourceId;
}
