using Claims.Api.Evidence;
using Claims.Api.Json;

namespace Claims.Api.Provenance;

/// <summary>How a claim's evidence collapses into origins, and which of it is independent of the claim's asserters.</summary>
public static class Origins
{
    /// <summary>
    /// A claim's items with their origins, for the alias-free parameter @id: one index range scan on
    /// evidence, a key look-up per item for its origin's name and group.
    /// </summary>
    internal const string TracedSql =
        $"""
        SELECT e.id AS evidence_id, e.stance, e.source_id, {EvidenceStore.Origin} AS origin_source_id,
               coalesce(o.name, '(a deleted source)') AS origin_name, g.group_id AS origin_group_id
        FROM evidence e
        LEFT JOIN sources o ON o.id = {EvidenceStore.Origin}
        LEFT JOIN source_origin_groups g ON g.source_id = {EvidenceStore.Origin}
        WHERE e.claim_id = @id
        """;

    /// <summary>A claim's origins' sources and groups, next to <see cref="EvidenceStore.SelectColumns"/> for the same claim (@id).</summary>
    internal const string OriginSourcesSql =
        $"""
        SELECT o.id, o.name, o.kind, o.reliability, g.group_id
        FROM sources o LEFT JOIN source_origin_groups g ON g.source_id = o.id
        WHERE o.id IN (SELECT {EvidenceStore.Origin} FROM evidence e WHERE e.claim_id = @id)
        """;

    /// <summary>
    /// The number of distinct origins per stance, as SQL aggregates over evidence e left-joined
    /// with source_origin_groups g on the item's origin; the status answer's independentOrigins.
    /// </summary>
    internal const string CountColumns =
        $"""
        count(DISTINCT coalesce(g.group_id, {EvidenceStore.Origin})) FILTER (WHERE e.stance = 'asserts')::int AS asserts_origins,
        count(DISTINCT coalesce(g.group_id, {EvidenceStore.Origin})) FILTER (WHERE e.stance = 'supports')::int AS supports_origins,
        count(DISTINCT coalesce(g.group_id, {EvidenceStore.Origin})) FILTER (WHERE e.stance = 'refutes')::int AS refutes_origins,
        count(DISTINCT coalesce(g.group_id, {EvidenceStore.Origin})) FILTER (WHERE e.stance = 'unable_to_verify')::int AS unable_to_verify_origins,
        count(DISTINCT coalesce(g.group_id, {EvidenceStore.Origin})) FILTER (WHERE e.stance = 'mentions')::int AS mentions_origins
        """;

    internal const string CountJoin = $"LEFT JOIN source_origin_groups g ON g.source_id = {EvidenceStore.Origin}";

    /// <summary>A claim's origins, in the order their first items were linked, and the number of distinct origins per stance.</summary>
    internal static (IReadOnlyList<OriginGroup> Groups, EvidenceCounts Counts) Of(IReadOnlyList<EvidenceItem> evidence, IEnumerable<OriginSourceRow> origins)
    {
        var sources = origins.ToDictionary(o => o.Id);
        EvidenceSource Describe(Guid id) => sources.TryGetValue(id, out var o)
            ? o.ToSource()
            : new EvidenceSource(id, "(a deleted source)", Sources.SourceKind.Anonymous, Sources.Reliability.F);
        Guid KeyOf(EvidenceItem item) => sources.TryGetValue(item.OriginSourceId, out var o) && o.GroupId is { } group ? group : item.OriginSourceId;

        var groups = evidence.GroupBy(KeyOf).Select(g =>
        {
            var members = g.Select(e => e.OriginSourceId).Distinct().Select(Describe).ToList();
            var items = g.ToList();
            var names = string.Join(", ", members.Select(m => m.Name));
            var reason = (members.Count, items.Count) switch
            {
                (1, 1) => items[0].ViaSourceIds.Count == 0
                    ? $"One item, from {names} speaking for itself."
                    : $"One item, relaying {names}.",
                (1, _) => $"{items.Count} items trace back to {names}, directly or through their chains: one origin.",
                _ => $"{items.Count} items trace back to {names}, which are one origin: they are joined by 'affiliated_with' or 'derived_from' relations (see each source's relations).",
            };
            return new OriginGroup(g.Key, members, [.. items.Select(e => e.Id)], [.. items.Select(e => e.Stance).Distinct()], reason);
        }).ToList();

        int Count(Stance stance) => groups.Count(g => g.Stances.Contains(stance));
        return (groups, new EvidenceCounts(Count(Stance.Asserts), Count(Stance.Supports), Count(Stance.Refutes), Count(Stance.UnableToVerify), Count(Stance.Mentions)));
    }

    /// <summary>
    /// The items of <paramref name="stance"/> whose origin is not the origin of any 'asserts' item,
    /// and those discounted because it is: a claim is not corroborated by its asserter (or the
    /// asserter's affiliates) saying it again.
    /// </summary>
    internal static (List<TracedEvidence> Independent, List<DiscountedEvidence> Discounted) Independent(IReadOnlyList<TracedEvidence> items, Stance stance)
    {
        var asserters = items.Where(i => i.Stance == "asserts").GroupBy(i => i.Origin).ToDictionary(g => g.Key, g => g.First());
        var name = stance.ToName();
        var independent = new List<TracedEvidence>();
        var discounted = new List<DiscountedEvidence>();
        foreach (var item in items.Where(i => i.Stance == name))
        {
            if (!asserters.TryGetValue(item.Origin, out var asserter))
            {
                independent.Add(item);
                continue;
            }

            var reason = asserter.OriginSourceId == item.OriginSourceId
                ? $"Its origin, {item.OriginName}, also asserts the claim: the asserter saying it again is not corroboration."
                : $"Its origin, {item.OriginName}, is one origin with {asserter.OriginName}, which asserts the claim (joined by 'affiliated_with' or 'derived_from' relations).";
            discounted.Add(new DiscountedEvidence(item.EvidenceId, item.SourceId, item.OriginSourceId, reason));
        }

        return (independent, discounted);
    }
}

/// <summary>An origin's source and its group, as <see cref="Origins.OriginSourcesSql"/> reads them.</summary>
internal sealed record OriginSourceRow(Guid Id, string Name, string Kind, string Reliability, Guid? GroupId)
{
    public EvidenceSource ToSource() => new(Id, Name, EnumNames<Sources.SourceKind>.Parse(Kind), EnumNames<Sources.Reliability>.Parse(Reliability));
}
