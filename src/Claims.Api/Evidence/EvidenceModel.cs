using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
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
    [property: Description("The name of the API key that linked it."), MaxLength(100)] string? CreatedBy,
    [property: Description("The sources the quoted source relays, nearest first; only on an item that relays others (without it, the quoted source speaks for itself)."), MaxLength(EvidenceRules.MaxChain)]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<Guid>? ViaSourceIds,
    [property: Description("The same chain with each source's name, kind and grade; only with viaSourceIds."), MaxLength(EvidenceRules.MaxChain)]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<EvidenceSource>? Via,
    [property: Description("Where the quote comes from in the end, the chain's last source; only with viaSourceIds (without them, the quoted source is the origin).")]
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    Guid? OriginSourceId)
{
    /// <summary>The item's origin: the chain's last source, or the quoted source.</summary>
    [JsonIgnore]
    public Guid Origin => OriginSourceId ?? Source.Id;

    /// <summary>Whether the item relays other sources.</summary>
    [JsonIgnore]
    public bool Relays => ViaSourceIds is { Count: > 0 };
}

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
    [property: Description("Admiralty information credibility, 1 (confirmed by other sources) to 6 (cannot be judged). Default 6."), Range(1, 6)] int? Credibility,
    [property: Description("The sources the quoted source relays, nearest first, when it does not speak for itself: Business Insider reporting what Suspilne reported from anonymous military sources is evidence from Business Insider via [Suspilne, the anonymous military sources]. The last is the item's origin. Existing sources, at most 10, each once, not the quoted source itself."), MaxLength(EvidenceRules.MaxChain)] IReadOnlyList<Guid>? ViaSourceIds = null);

/// <summary>Evidence items per stance.</summary>
public sealed record EvidenceCounts(int Asserts, int Supports, int Refutes, int UnableToVerify, int Mentions);

public static class EvidenceRules
{
    /// <summary>The longest chain of relays an item may record.</summary>
    public const int MaxChain = 10;
}

internal sealed record EvidenceRow(
    Guid Id, Guid ClaimId, Guid SourceId, string SourceName, string SourceKind, string SourceReliability,
    string Stance, string? Quote, string? Url, DateTime? PublishedAt, string? Note, short Credibility, DateTime CreatedAt, string? CreatedBy,
    string ViaSourceIds, Guid OriginSourceId, string? ViaSources)
{
    private sealed record ViaSource(Guid Id, string Name, string Kind, string Reliability);

    private static readonly JsonSerializerOptions ViaJson = new(JsonSerializerDefaults.Web);

    /// <summary>The chain's sources from <see cref="EvidenceStore.ViaSources"/>.</summary>
    public static IReadOnlyList<EvidenceSource> ReadVia(string? json) => json is null
        ? []
        : [.. JsonSerializer.Deserialize<List<ViaSource>>(json, ViaJson)!.Select(v =>
            new EvidenceSource(v.Id, v.Name, EnumNames<SourceKind>.Parse(v.Kind), EnumNames<Reliability>.Parse(v.Reliability)))];

    public EvidenceItem ToItem() => new(
        Id, ClaimId,
        new EvidenceSource(SourceId, SourceName, EnumNames<SourceKind>.Parse(SourceKind), EnumNames<Reliability>.Parse(SourceReliability)),
        EnumNames<Stance>.Parse(Stance), Quote, Url, PublishedAt, Note, Credibility, CreatedAt, CreatedBy,
        ViaSourceIds.Length == 0 ? null : [.. ViaSourceIds.Split(',').Select(Guid.Parse)], ViaSourceIds.Length == 0 ? null : ReadVia(ViaSources),
        ViaSourceIds.Length == 0 ? null : OriginSourceId);
}

/// <summary>A source of a chain, as a claim's read looks them up (EvidenceStore.ChainSourcesSql).</summary>
internal sealed record ChainSource(Guid Id, string Name, string Kind, string Reliability, Guid? OriginGroupId)
{
    public EvidenceSource ToSource() => new(Id, Name, EnumNames<SourceKind>.Parse(Kind), EnumNames<Reliability>.Parse(Reliability));
}

/// <summary>An evidence item as reading one claim selects it (EvidenceStore.ClaimColumns).</summary>
internal sealed record ClaimEvidenceRow(
    Guid Id, Guid ClaimId, Guid SourceId, string SourceName, string SourceKind, string SourceReliability,
    string Stance, string? Quote, string? Url, DateTime? PublishedAt, string? Note, short Credibility, DateTime CreatedAt, string? CreatedBy,
    string ViaSourceIds, Guid? SourceGroupId)
{
    public Guid[] Chain { get; } = ViaSourceIds.Length == 0 ? [] : [.. ViaSourceIds.Split(',').Select(Guid.Parse)];

    public EvidenceItem ToItem(IReadOnlyDictionary<Guid, ChainSource> chainSources) => new(
        Id, ClaimId,
        new EvidenceSource(SourceId, SourceName, EnumNames<SourceKind>.Parse(SourceKind), EnumNames<Reliability>.Parse(SourceReliability)),
        EnumNames<Stance>.Parse(Stance), Quote, Url, PublishedAt, Note, Credibility, CreatedAt, CreatedBy,
        Chain.Length == 0 ? null : Chain,
        Chain.Length == 0 ? null : [.. Chain.Where(chainSources.ContainsKey).Select(id => chainSources[id].ToSource())],
        Chain.Length == 0 ? null : Chain[^1]);

    /// <summary>Items with the same key have one origin: the origin's group, or the origin source itself.</summary>
    public Guid OriginKey(IReadOnlyDictionary<Guid, ChainSource> chainSources) => Chain.Length == 0
        ? SourceGroupId ?? SourceId
        : chainSources.TryGetValue(Chain[^1], out var origin) && origin.OriginGroupId is { } group ? group : Chain[^1];
}
