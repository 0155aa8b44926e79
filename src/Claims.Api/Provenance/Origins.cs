using Claims.Api.Evidence;
using Claims.Api.Json;

namespace Claims.Api.Provenance;

/// <summary>How a claim's evidence collapses into origins, and which of it is independent of the claim's asserters.</summary>
public static class Origins
{
    /// <summary>
    /// A claim's items with their origins, for the alias-free parameter @id, its duplicates' items
    /// included: an index scan on evidence, a key look-up per item for its origin's name and group.
    /// </summary>
    internal static readonly string TracedSql = Traced("@id");

    /// <summary><see cref="TracedSql"/> for a claim id expression instead of @id.</summary>
    internal static string Traced(string claimId) =>
        $"""
        SELECT e.id AS evidence_id, e.stance, e.source_id, {EvidenceStore.Origin} AS origin_source_id,
               coalesce(o.name, '(a deleted source)') AS origin_name, o.origin_group_id, e.claim_id
        FROM evidence e
        LEFT JOIN sources o ON o.id = {EvidenceStore.Origin}
        WHERE e.claim_id = ANY({WithDuplicates(claimId)})
        """;

    /// <summary>
    /// Recounts the origins of the canonical of the claim <paramref name="claimId"/>, if it is a
    /// duplicate (a statement): its evidence counts there too, so the canonical's answer changed
    /// and its version moves, as with evidence of its own.
    /// </summary>
    public static string RecountCanonicalOf(string claimId) =>
        $"""
        UPDATE claims c SET origin_counts = {CountsOf("c.id")}, {Moved}
        WHERE c.id = (SELECT d.canonical_claim_id FROM claims d WHERE d.id = {claimId} AND d.canonical_claim_id IS NOT NULL);
        """;

    /// <summary>What an UPDATE of claims c sets when the evidence a claim is judged on changed.</summary>
    public const string Moved = "version = c.version + 1, updated_at = clock_timestamp(), status_updated_at = clock_timestamp()";

    /// <summary>
    /// The claim and the claims recorded as its duplicates, as an array for a claim id expression:
    /// a canonical's origins count its duplicates' evidence. A probe of the small index of
    /// duplicates (claims_canonical_idx), which finds nothing for nearly every claim.
    /// </summary>
    public static string WithDuplicates(string claimId) =>
        $"ARRAY(SELECT {claimId} UNION ALL SELECT d.id FROM claims d WHERE d.canonical_claim_id = {claimId})";

    /// <summary>
    /// An item's origin key, for the alias e: its origin's group, or the origin source itself when
    /// that is in no group. A key look-up of the origin's source.
    /// </summary>
    public const string KeyOf =
        $"coalesce((SELECT o.origin_group_id FROM sources o WHERE o.id = {EvidenceStore.Origin}), {EvidenceStore.Origin})";

    /// <summary>
    /// The claim's origin counts as claims.origin_counts holds them, for a claim id expression:
    /// the number of distinct origin keys per stance, in the order of <see cref="Stance"/>, over
    /// the claim's evidence and its duplicates'.
    /// </summary>
    public static string CountsOf(string claimId) =>
        $"""
        (SELECT ARRAY[count(DISTINCT x.origin) FILTER (WHERE x.stance = 'asserts'),
                      count(DISTINCT x.origin) FILTER (WHERE x.stance = 'supports'),
                      count(DISTINCT x.origin) FILTER (WHERE x.stance = 'refutes'),
                      count(DISTINCT x.origin) FILTER (WHERE x.stance = 'unable_to_verify'),
                      count(DISTINCT x.origin) FILTER (WHERE x.stance = 'mentions')]::int[]
         FROM (SELECT e.stance, {KeyOf} AS origin FROM evidence e WHERE e.claim_id = ANY({WithDuplicates(claimId)})) x)
        """;

    /// <summary>
    /// Taken (shared) by every write of evidence before it counts a claim's origins, and
    /// (exclusive) by every regrouping before it recounts: a recount then sees the evidence
    /// written before it, and a count the groups regrouped before it. A statement of its own, so
    /// that the statements after it read what the holder before committed. Taken before the
    /// transaction locks any claim's row: a regrouping holds the exclusive lock while it waits for
    /// claims' rows, so a write that locked a claim and then waited here would deadlock with it.
    /// </summary>
    public const string CountingLock = "SELECT pg_advisory_xact_lock_shared(7274, 16);";

    /// <summary>
    /// The exclusive side of <see cref="CountingLock"/>, for a write that changes which evidence
    /// counts toward which claim or origin (relations of sources, duplicates of claims, deleting
    /// either) and recounts: taken first, before any row lock, for the same reason.
    /// </summary>
    public const string RecountingLock = "SELECT pg_advisory_xact_lock(7274, 16);";

    /// <summary>
    /// The number of distinct origins per stance, and the origins worth showing: those that stand
    /// for more than one item, or that an item reaches through a chain. Any other item is its own
    /// origin, its quoted source, which its evidence entry shows already.
    /// </summary>
    internal static (IReadOnlyList<OriginGroup> Groups, EvidenceCounts Counts) Of(IReadOnlyList<EvidenceItem> evidence, IReadOnlyList<Guid?> keys)
    {
        // Read on every GET /claims/{id}: counted with loops over the few items a claim has, and a
        // group built only for the origins that are shown, which most claims have none of.
        Span<int> counts = stackalloc int[5];
        List<int>? shown = null;
        for (var i = 0; i < evidence.Count; i++)
        {
            var key = KeyAt(evidence, keys, i);
            var first = true;
            var firstOfKey = true;
            for (var j = 0; j < i; j++)
            {
                if (KeyAt(evidence, keys, j) == key)
                {
                    firstOfKey = false;
                    first &= evidence[j].Stance != evidence[i].Stance;
                }
            }

            if (first)
            {
                counts[(int)evidence[i].Stance]++;
            }

            if (firstOfKey)
            {
                (shown ??= []).Add(i);
            }
        }

        var groups = new List<OriginGroup>();
        foreach (var i in shown ?? [])
        {
            var key = KeyAt(evidence, keys, i);
            var linked = evidence.Where((_, j) => KeyAt(evidence, keys, j) == key).ToList();
            if (linked.Count == 1 && !linked[0].Relays)
            {
                continue;
            }

            var members = linked.Select(OriginOf).DistinctBy(s => s.Id).ToList();
            var names = string.Join(", ", members.Select(m => m.Name));
            var reason = (members.Count, linked.Count) switch
            {
                (1, 1) => $"One item, relaying {names}.",
                (1, _) => $"{linked.Count} items trace back to {names}, directly or through their chains: one origin.",
                _ => $"{linked.Count} items trace back to {names}, which are one origin: they are joined by 'affiliated_with' or 'derived_from' relations (see each source's relations).",
            };
            groups.Add(new OriginGroup(key, members, [.. linked.Select(e => e.Id)], [.. linked.Select(e => e.Stance).Distinct()], reason));
        }

        return (groups, new EvidenceCounts(counts[0], counts[1], counts[2], counts[3], counts[4]));
    }

    private static Guid KeyAt(IReadOnlyList<EvidenceItem> evidence, IReadOnlyList<Guid?> keys, int i) => keys[i] ?? evidence[i].Origin;

    private static EvidenceSource OriginOf(EvidenceItem item) => !item.Relays
        ? item.Source
        : item.Via?.LastOrDefault(v => v.Id == item.Origin) ?? new EvidenceSource(item.Origin, "(a deleted source)", Sources.SourceKind.Anonymous, Sources.Reliability.F);

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
