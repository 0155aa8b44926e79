using Claims.Api.Validation;
using Dapper;
using Npgsql;

namespace Claims.Api.Claims;

/// <summary>
/// The SQL of one claims search: filters that each have an index, and a keyset on the chosen order.
/// With q there are two ways to read a page. Recent reads the chosen order's index newest first and
/// tests each claim: cheap for a common word, and exact whenever it fills its page (or relevance
/// window). Indexed collects every match through the full-text index and sorts them: cheap for a
/// rare word. A search runs Recent first unless its scope is known to be rare
/// (<see cref="SearchPlans"/>), and Indexed when Recent comes up short after reading at most
/// <see cref="SearchOptions.WalkPerMatch"/> claims for each match it needs, and at least
/// <see cref="SearchOptions.MinimumWalk"/>. Each shape is fixed by its SQL and runs on
/// one generic plan: planning per query (0.3 ms, and stalls of 50 ms under load) was what a search
/// cost most.
/// </summary>
internal sealed record ClaimSearch(string Sql, string? IndexedSql, DynamicParameters Parameters, int Needed, bool Relevance)
{
    // A query in any language: English and Russian stemmed, everything else word for word. An
    // empty part (stop words only) matches nothing and harms nothing. Computed once per statement
    // (a scalar subquery of a materialized CTE): in a generic plan an inline expression would be
    // evaluated again for every claim tested.
    private const string TsQuery =
        "websearch_to_tsquery('english', @Q) || websearch_to_tsquery('russian', @Q) || websearch_to_tsquery('simple', @Q)";

    // Korean, Chinese and Japanese words are indexed as overlapping two-character pieces too
    // (db/0002_search.sql, cjk_bigrams): a query's runs of those scripts become the same pieces,
    // adjacent, so that 훈련 finds 훈련을 and 러시아 finds 러시아에서.
    private const string CjkQuery = " || to_tsquery('simple', @Cjk)";

    private const string Query = "(SELECT query FROM s)";

    // Claims recorded as duplicates are left out of lists: tested on the table's row wherever a
    // search reads it anyway, and left out of the walk index itself (db/0020_claim_relations.sql),
    // whose predicate this condition matches, so that a walk reading that index only skips no
    // claim and probes nothing. A probe per matched claim instead cost the relevance search a fifth.
    private const string NotDuplicate = "c.canonical_claim_id IS NULL";
    private const string Duplicate = "c.canonical_claim_id IS NOT NULL";

    // The predicates of the two walk indexes, written as there (db/0012_search_walk.sql): a text of
    // at most 400 bytes makes a search_vector small enough for a B-tree entry (under 2,000 bytes
    // for the densest text, where the limit is 2,704).
    private const string ShortText = "octet_length(c.statement) + coalesce(octet_length(c.summary), 0) <= 400";
    private const string LongText = "octet_length(c.statement) + coalesce(octet_length(c.summary), 0) > 400";

    // Each shape is written to be read one way whatever the words, but PostgreSQL keeps planning a
    // prepared statement for its values while those plans look cheaper than the generic one, and a
    // rare word's plan always does: 0.3 ms of planning per search, and stalls of 50 to 100 ms on a
    // busy server. The setting holds for this statement's transaction only.
    public const string GenericPlan = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true);\n";

    /// <summary>Runs <see cref="Sql"/> or <see cref="IndexedSql"/>: one round trip, the plan setting included.</summary>
    public async Task<List<RankedClaimRow>> ReadAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(sql, Parameters, cancellationToken: ct));
        if (sql.StartsWith(GenericPlan, StringComparison.Ordinal))
        {
            await results.ReadAsync<string>();
        }

        return (await results.ReadAsync<RankedClaimRow>()).AsList();
    }

    /// <summary>Whether the rows Recent returned are the whole answer.</summary>
    public bool IsComplete(IReadOnlyList<RankedClaimRow> rows) =>
        Relevance ? rows.Count > 0 && rows[0].WindowSize >= Needed : rows.Count >= Needed;

    public static ClaimSearch Build(ClaimQuery query, ClaimOrder order, KeysetPosition? after, SearchOptions options, bool knownRare)
    {
        var parameters = new DynamicParameters();
        parameters.Add("Take", query.Size + 1);
        var conditions = Conditions.Of(query, parameters);
        var keyset = "";
        if (after is not null)
        {
            keyset = order.Keyset;
            parameters.Add("AfterId", after.AfterId);
            parameters.Add("After", after.After);
        }

        if (query.Text is not { } text)
        {
            return Unsearched(query, order, conditions, keyset, parameters);
        }

        var match = TextMatch.Of(text, parameters);
        return query.EffectiveSort == ClaimQuery.Relevance
            ? RankedWindow(conditions, keyset, match, parameters, options, knownRare)
            : SearchedPage(query, order, conditions, keyset, match, parameters, options, knownRare);
    }

    /// <summary>
    /// Every claim the filters and q match, for an export: the WITH clause of q (or empty), the
    /// WHERE clause over claims aliased c, and the sort key, newest first by it then by id. q is a
    /// filter here, not a ranking: relevance ranks a bounded window of matches, and an export has
    /// no bound, so it follows a time order (sort, or -updatedAt). No plan setting: one statement
    /// that reads many rows is better planned for its own values.
    /// </summary>
    public static ClaimSelection Select(ClaimQuery query)
    {
        var parameters = new DynamicParameters();
        var conditions = Conditions.Of(query, parameters).All;
        var with = "";
        if (query.Text is { } text)
        {
            var match = TextMatch.Of(text, parameters);
            with = match.With[GenericPlan.Length..];
            conditions.Add(match.Condition);
        }

        var sort = query.Sort is null or ClaimQuery.Relevance ? "-updatedAt" : query.Sort;
        return new ClaimSelection(with, conditions, ClaimOrder.For(sort).Key, parameters);
    }

    /// <summary>Without q: the filters and the keyset, read in the order's own index.</summary>
    private static ClaimSearch Unsearched(ClaimQuery query, ClaimOrder order, Conditions conditions, string keyset, DynamicParameters parameters)
    {
        List<string> filters = keyset.Length > 0 ? [.. conditions.All, keyset] : conditions.All;
        return new ClaimSearch($"""
            SELECT {ClaimsApi.QualifiedColumns("c")}, 0::real AS rank
            FROM claims c
            {Where(filters)}
            ORDER BY {order.Key} DESC, c.id DESC
            LIMIT @Take
            """, null, parameters, query.Size + 1, Relevance: false);
    }

    /// <summary>
    /// sort=relevance. Ranking every match of a common word would read a tenth of the table on
    /// every request, so it ranks the RelevanceWindow most recently changed matches instead: all
    /// of them for a rarer word, the current ones for a common word. The keyset then pages through
    /// the ranked window. The window keeps ids only; the page's claims are read at the end.
    /// </summary>
    private static ClaimSearch RankedWindow(
        Conditions conditions, string keyset, TextMatch match, DynamicParameters parameters, SearchOptions options, bool knownRare)
    {
        parameters.Add("Window", options.RelevanceWindow);
        var walk = options.Walk(options.RelevanceWindow);
        // Only what the tests need; with a condition on the claims' other columns, all of them.
        var columns = conditions.Tested.Count > 0 ? $"{ClaimsApi.QualifiedColumns("c")}, c.search_vector"
            : match.Substring ? "c.id, c.updated_at, c.search_vector, c.language, c.statement" : "c.id, c.updated_at, c.search_vector";
        var walked = conditions.Covered && !match.Substring ? CoveredWalk(walk, conditions) : $"""
            SELECT {columns}
            FROM claims c
            {Where(conditions.Walked)}
            ORDER BY c.updated_at DESC, c.id DESC
            LIMIT {walk}
            """;
        var recent = $"""
            SELECT c.id, c.search_vector
            FROM ({walked}) c
            {Where([.. conditions.Tested, match.Condition])}
            ORDER BY c.updated_at DESC, c.id DESC
            LIMIT @Window
            """;
        var indexed = $"""
            SELECT c.id, c.search_vector
            FROM (
                SELECT c.id, c.updated_at, c.search_vector
                FROM claims c
                {Where([.. conditions.All, match.Condition])}
                OFFSET 0) c
            ORDER BY c.updated_at DESC, c.id DESC
            LIMIT @Window
            """;
        return new ClaimSearch(Ranked(knownRare ? indexed : recent), knownRare ? null : Ranked(indexed),
            parameters, options.RelevanceWindow, Relevance: true);

        string Ranked(string window) => $"""
            {match.With},
            window_ AS MATERIALIZED (
                SELECT w.id, ts_rank(w.search_vector, {Query})::real AS rank
                FROM ({window}) w)
            SELECT {ClaimsApi.QualifiedColumns("f")}, p.rank, p.window_size
            FROM (
                SELECT c.id, c.rank, (SELECT count(*) FROM window_) AS window_size
                FROM window_ c
                {(keyset.Length == 0 ? "" : "WHERE " + keyset)}
                ORDER BY c.rank DESC, c.id DESC
                LIMIT @Take) p
            JOIN claims f ON f.id = p.id
            ORDER BY p.rank DESC, p.id DESC
            """;
    }

    /// <summary>With q in a time order: one page of matches, Recent and Indexed.</summary>
    private static ClaimSearch SearchedPage(ClaimQuery query, ClaimOrder order, Conditions conditions, string keyset, TextMatch match,
        DynamicParameters parameters, SearchOptions options, bool knownRare)
    {
        if (keyset.Length > 0)
        {
            conditions.Add(keyset, inWalk: true, inCoveredWalk: query.EffectiveSort == "-updatedAt");
        }

        // The sort key leaves each inner query by name, so that the outer order is the inner one.
        var pageWalk = options.Walk(query.Size + 1);
        var recentPage = query.EffectiveSort == "-updatedAt" && conditions.Covered && !match.Substring
            ? $"""
                {match.With}
                SELECT {ClaimsApi.QualifiedColumns("f")}, 0::real AS rank
                FROM (
                    SELECT c.id, c.updated_at
                    FROM ({CoveredWalk(pageWalk, conditions)}) c
                    WHERE {match.Condition}
                    ORDER BY c.updated_at DESC, c.id DESC
                    LIMIT @Take) p
                JOIN claims f ON f.id = p.id
                ORDER BY p.updated_at DESC, p.id DESC
                """
            : $"""
                {match.With}
                SELECT {ClaimsApi.QualifiedColumns("c")}, 0::real AS rank
                FROM (
                    SELECT {ClaimsApi.QualifiedColumns("c")}, c.search_vector, {order.Key} AS sort_key
                    FROM claims c
                    {Where(conditions.Walked)}
                    ORDER BY {order.Key} DESC, c.id DESC
                    LIMIT {pageWalk}) c
                {Where([.. conditions.Tested, match.Condition])}
                ORDER BY c.sort_key DESC, c.id DESC
                LIMIT @Take
                """;
        var indexedPage = $"""
            {match.With}
            SELECT {ClaimsApi.QualifiedColumns("c")}, 0::real AS rank
            FROM (
                SELECT {ClaimsApi.QualifiedColumns("c")}, {order.Key} AS sort_key
                FROM claims c
                {Where([.. conditions.All, match.Condition])}
                OFFSET 0) c
            ORDER BY c.sort_key DESC, c.id DESC
            LIMIT @Take
            """;
        return new ClaimSearch(knownRare ? indexedPage : recentPage, knownRare ? null : indexedPage,
            parameters, query.Size + 1, Relevance: false);
    }

    /// <summary>
    /// The newest claims that meet the walked conditions, with their search_vector, read from the
    /// walk indexes in updated_at order and merged (db/0012_search_walk.sql): the claims of short
    /// text from one that holds their search_vector, so that testing them needs no visit to the
    /// table while its pages are all-visible, and the few long ones from another. Read from the
    /// table instead, a claim cost a random page each, four fifths of a common word's search. The
    /// first index holds no duplicates (db/0020_claim_relations.sql); a search that lists them
    /// reads theirs too.
    /// </summary>
    private static string CoveredWalk(long walk, Conditions conditions)
    {
        List<string> parts =
        [
            Part([ShortText, .. conditions.Walked, .. conditions.HidesDuplicates ? Array.Empty<string>() : [NotDuplicate]]),
            .. conditions.HidesDuplicates ? Array.Empty<string>() : [Part([ShortText, Duplicate, .. conditions.Walked])],
            Part([LongText, .. conditions.Walked]),
        ];
        return $"""
            {string.Join("\nUNION ALL\n", parts)}
            ORDER BY updated_at DESC, id DESC
            LIMIT {walk}
            """;

        string Part(IReadOnlyCollection<string> where) => $"""
            (SELECT c.id, c.updated_at, c.search_vector
             FROM claims c
             {Where(where)}
             ORDER BY c.updated_at DESC, c.id DESC
             LIMIT {walk})
            """;
    }

    private static string Where(IReadOnlyCollection<string> conditions) =>
        conditions.Count == 0 ? "" : "WHERE " + string.Join("\n  AND ", conditions);

    /// <summary>
    /// The filters of a search. Every condition goes into Indexed and into a search without q
    /// (<see cref="All"/>). Recent reads one index in order, so it takes in its walk only the
    /// conditions that index serves (one status, the language, the order's own range) and tests
    /// the others on the claims it read: under a generic plan PostgreSQL takes any tag or array of
    /// statuses for a rare one, and would rather collect and sort all of a popular tag's claims than walk.
    /// </summary>
    private sealed class Conditions
    {
        public List<string> All { get; } = [];

        public List<string> Walked { get; } = [];

        public List<string> Tested { get; } = [];

        /// <summary>Whether claims recorded as duplicates are left out (a walked condition, which the walk index holds).</summary>
        public bool HidesDuplicates { get; private init; }

        /// <summary>Whether the walk may read the walk indexes: it tests nothing else, and walks only on updated_at.</summary>
        public bool Covered => Tested.Count == 0 && _offWalkIndexes == 0;

        private int _offWalkIndexes;

        public void Add(string condition, bool inWalk, bool inCoveredWalk = false)
        {
            All.Add(condition);
            (inWalk ? Walked : Tested).Add(condition);
            _offWalkIndexes += inWalk && !inCoveredWalk ? 1 : 0;
        }

        public static Conditions Of(ClaimQuery query, DynamicParameters parameters)
        {
            var conditions = new Conditions { HidesDuplicates = query.HidesDuplicates };
            if (query.HidesDuplicates)
            {
                conditions.Add(NotDuplicate, inWalk: true, inCoveredWalk: true);
            }

            var byUpdate = query.EffectiveSort is "-updatedAt" or ClaimQuery.Relevance;
            if (query.Statuses.Length == 1)
            {
                // Equality, not ANY: PostgreSQL 15 reads (status, key, id) in key order only for one value.
                conditions.Add("c.status = @Status", byUpdate);
                parameters.Add("Status", query.Statuses[0]);
            }
            else if (query.Statuses.Length > 1)
            {
                conditions.Add("c.status = ANY(@Statuses)", false);
                parameters.Add("Statuses", query.Statuses);
            }

            if (query.Tags.Length > 0)
            {
                conditions.Add("c.tags @> @Tags", false);
                parameters.Add("Tags", query.Tags);
            }

            if (query.NormalizedLanguage is { } language)
            {
                conditions.Add("c.language = @Language", byUpdate);
                parameters.Add("Language", language);
            }

            if (query.SourceId is { } sourceId)
            {
                conditions.Add(query.Stance is null
                    ? "c.id IN (SELECT e.claim_id FROM evidence e WHERE e.source_id = @SourceId)"
                    : "c.id IN (SELECT e.claim_id FROM evidence e WHERE e.source_id = @SourceId AND e.stance = @Stance)", false);
                parameters.Add("SourceId", sourceId);
                parameters.Add("Stance", query.Stance);
            }

            // Written with the same expression as the -firstReportedOn index, so that one index serves both.
            var byReport = query.EffectiveSort == "-firstReportedOn";
            if (query.ReportedFrom is { } from)
            {
                conditions.Add("coalesce(c.first_reported_on, '0001-01-01'::date) >= @ReportedFrom", byReport);
                parameters.Add("ReportedFrom", from);
            }

            if (query.ReportedTo is { } to)
            {
                conditions.Add("c.first_reported_on IS NOT NULL AND coalesce(c.first_reported_on, '0001-01-01'::date) <= @ReportedTo", byReport);
                parameters.Add("ReportedTo", to);
            }

            if (query.UpdatedSince is { } since)
            {
                conditions.Add("c.updated_at >= @UpdatedSince", byUpdate, inCoveredWalk: true);
                parameters.Add("UpdatedSince", since.UtcDateTime);
            }

            return conditions;
        }
    }

    /// <summary>How q matches a claim: the WITH clause that computes its tsquery once, and the condition.</summary>
    private sealed record TextMatch(string With, string Condition, bool Substring)
    {
        public static TextMatch Of(string text, DynamicParameters parameters)
        {
            var cjk = CjkBigrams.Query(text);
            var with = GenericPlan + $"WITH s AS MATERIALIZED (SELECT {TsQuery}{(cjk is null ? "" : CjkQuery)} AS query)";
            parameters.Add("Q", text);
            parameters.Add("Cjk", cjk);

            // Words glued to particles (Korean), in forms 'simple' does not stem (Ukrainian) or
            // derived beyond what the Russian stemmer folds (дезертир, дезертировали) are still found
            // as substrings of the statements in those languages, when the query is written in such
            // a script; an English claim quoting a Cyrillic word is found by the whole word. A query in
            // Latin letters is matched word by word (English stemmed): its substring test read the
            // trigram index's long lists for Latin trigrams, 9 ms for a village name that 80 claims
            // contain, against 0.3 ms for the words. English claims skip the test too, their stemmer
            // matches the forms of a word, and skipping it halves the cost of reading a common word
            // newest first (language tags are stored in canonical case, so that test needs no lower()). Below
            // three characters the trigram index cannot help.
            var substring = text.Length >= 3 && text.Any(IsNonLatinLetter);
            var condition = substring
                ? $"(c.search_vector @@ {Query} OR (split_part(c.language, '-', 1) <> 'en' AND c.statement ILIKE @Like))"
                : $"c.search_vector @@ {Query}";
            parameters.Add("Like", Patterns.Contains(text));
            return new TextMatch(with, condition, substring);
        }

        // Letters of any script but Latin: Basic Latin to Latin Extended-B, Latin Extended Additional
        // (Vietnamese), Latin Extended-C, -D, -E and the fullwidth forms stay with the full-text match.
        private static bool IsNonLatinLetter(char ch) => char.IsLetter(ch) && ch switch
        {
            <= '\u024F' => false,
            >= '\u1E00' and <= '\u1EFF' => false,
            >= '\u2C60' and <= '\u2C7F' => false,
            >= '\uA720' and <= '\uA7FF' => false,
            >= '\uAB30' and <= '\uAB6F' => false,
            >= '\uFF21' and <= '\uFF5A' => false,
            _ => true,
        };
    }
}

/// <summary>The claims an export reads: see <see cref="ClaimSearch.Select"/>.</summary>
internal sealed record ClaimSelection(string With, IReadOnlyList<string> Conditions, string OrderKey, DynamicParameters Parameters)
{
    /// <summary>The WHERE clause of the conditions and any more, or nothing.</summary>
    public string Where(params IReadOnlyList<string> more) =>
        Conditions.Count + more.Count == 0 ? "" : "WHERE " + string.Join("\n  AND ", [.. Conditions, .. more]);

    /// <summary>Newest first by the key, then by id; <paramref name="then"/> orders rows of one claim.</summary>
    public string OrderBy(string? then = null) => $"ORDER BY {OrderKey} DESC, c.id DESC{(then is null ? "" : ", " + then)}";
}
