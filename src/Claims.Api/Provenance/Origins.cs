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

    /// <summary>
    /// An item's origin key, for the alias e: its origin's group, or the origin source itself when
    /// that is in no group. A key look-up in the (small) table of grouped sources.
    /// </summary>
    internal const string KeyOf =
        $"coalesce((SELECT g.group_id FROM source_origin_groups g WHERE g.source_id = {EvidenceStore.Origin}), {EvidenceStore.Origin})";

    /// <summary>
    /// The number of distinct origins per stance, and the origins worth showing: those that stand
    /// for more than one item, or that an item reaches through a chain. Any other item is its own
    /// origin, its quoted source, which its evidence entry shows already.
    /// </summary>
    internal static (IReadOnlyList<OriginGroup> Groups, EvidenceCounts Counts) Of(IReadOnlyList<EvidenceItem> evidence, IReadOnlyList<Guid?> keys)
    {
        static EvidenceSource OriginOf(EvidenceItem item) => item.ViaSourceIds.Count == 0
            ? item.Source
            : item.Via.LastOrDefault(v => v.Id == item.OriginSourceId) ?? new EvidenceSource(item.OriginSourceId, "(a deleted source)", Sources.SourceKind.Anonymous, Sources.Reliability.F);

        var groups = evidence.Select((item, i) => (Item: item, Key: keys[i] ?? item.OriginSourceId)).GroupBy(i => i.Key).Select(g =>
        {
            var members = g.Select(i => OriginOf(i.Item)).DistinctBy(s => s.Id).ToList();
            var linked = g.Select(i => i.Item).ToList();
            var names = string.Join(", ", members.Select(m => m.Name));
            var reason = (members.Count, linked.Count) switch
            {
                (1, 1) => $"One item, relaying {names}.",
                (1, _) => $"{linked.Count} items trace back to {names}, directly or through their chains: one origin.",
                _ => $"{linked.Count} items trace back to {names}, which are one origin: they are joined by 'affiliated_with' or 'derived_from' relations (see each source's relations).",
            };
            return new OriginGroup(g.Key, members, [.. linked.Select(e => e.Id)], [.. linked.Select(e => e.Stance).Distinct()], reason);
        }).ToList();

        int Count(Stance stance) => groups.Count(g => g.Stances.Contains(stance));
        var counts = new EvidenceCounts(Count(Stance.Asserts), Count(Stance.Supports), Count(Stance.Refutes), Count(Stance.UnableToVerify), Count(Stance.Mentions));
        var chained = evidence.Where(e => e.ViaSourceIds.Count > 0).Select(e => e.Id).ToHashSet();
        var shown = groups.Where(g => g.EvidenceIds.Count > 1 || chained.Contains(g.EvidenceIds[0])).ToList();
        return (shown, counts);
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
