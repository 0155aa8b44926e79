using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Claims.Api.Evidence;
using Claims.Api.Http;
using Claims.Api.OpenApi;
using Claims.Api.Validation;
using Dapper;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Claims.Api.Claims;

/// <summary>Filters, search and order for GET /claims.</summary>
public sealed record ClaimQuery(
    [property: Description("Only claims with one of these statuses (repeat the parameter)."), EnumValues(typeof(ClaimStatus))][FromQuery(Name = "status")] string[]? Status,
    [property: Description("Only claims with all of these tags (repeat the parameter; at most 20, as a claim has)."), MaxLength(ClaimRules.MaxTags), ItemMaxLength(ClaimRules.MaxTagLength)][FromQuery(Name = "tag")] string[]? Tag,
    [property: Description("Only claims in this language (BCP 47, such as uk)."), MaxLength(35)][FromQuery(Name = "language")] string? Language,
    [property: Description("Only claims with evidence from this source.")][FromQuery(Name = "sourceId")] Guid? SourceId,
    [property: Description("With sourceId: only evidence of this stance."), EnumValues(typeof(Stance))][FromQuery(Name = "stance")] string? Stance,
    [property: Description("First reported on or after this day (ISO date).")][FromQuery(Name = "reportedFrom")] DateOnly? ReportedFrom,
    [property: Description("First reported on or before this day (ISO date).")][FromQuery(Name = "reportedTo")] DateOnly? ReportedTo,
    [property: Description("Changed at or after this moment (ISO 8601 with offset).")][FromQuery(Name = "updatedSince")] DateTimeOffset? UpdatedSince,
    [property: Description("Words to search for in statement and summary, in any language."), MaxLength(500)][FromQuery(Name = "q")] string? Q,
    [property: Description("-updatedAt (default), -createdAt, -firstReportedOn, or relevance (the default with q: best match first among the most recently changed matches, 500 unless Search:RelevanceWindow says otherwise)."), AllowedValues(null, "-updatedAt", "-createdAt", "-firstReportedOn", "relevance"), SharedEnum("ClaimSort")][FromQuery(Name = "sort")] string? Sort,
    [property: Description("Page size, 1 to 200. Default 50."), Range(1, 200)][FromQuery(Name = "limit")] int? Limit,
    [property: Description("The nextCursor of the previous page, as given, with the same filters."), MaxLength(CursorProtector.MaxLength)][FromQuery(Name = "cursor")] string? Cursor)
{
    public const string Relevance = "relevance";
    public static readonly string[] Sorts = ["-updatedAt", "-createdAt", "-firstReportedOn", Relevance];

    public int Size => Limit ?? PageRequest.DefaultLimit;

    public string? Text => VisibleText.OrNull(Q);

    public string EffectiveSort => Sort ?? (Text is null ? "-updatedAt" : Relevance);

    public string[] Statuses => [.. (Status ?? []).Distinct().Order(StringComparer.Ordinal)];

    public string[] Tags => [.. ClaimRules.NormalizeTags(Tag).Order(StringComparer.Ordinal)];

    public string? NormalizedLanguage => string.IsNullOrWhiteSpace(Language) ? null : ClaimRules.NormalizeLanguage(Language);

    /// <summary>What a cursor of this query is bound to: the same filters and order, written canonically.</summary>
    public string Scope => string.Join('|', "claims",
        string.Join(',', Statuses), string.Join(',', Tags), NormalizedLanguage, SourceId, Stance,
        ReportedFrom?.DayNumber, ReportedTo?.DayNumber, UpdatedSince?.UtcTicks, Text, EffectiveSort);
}

public sealed class ClaimQueryValidator : AbstractValidator<ClaimQuery>
{
    public ClaimQueryValidator()
    {
        RuleForEach(q => q.Status).OneOf<ClaimQuery, ClaimStatus>();
        RuleForEach(q => q.Tag).Must(ClaimRules.IsSlug).WithMessage("Must be a tag slug such as north-korea.");
        RuleFor(q => q.Language).MaximumLength(35).Matches(ClaimRules.LanguageTag())
            .WithMessage("Must be a BCP 47 language tag such as en, uk, ru or ko.");
        RuleFor(q => q.Stance).OneOf<ClaimQuery, Stance>();
        RuleFor(q => q.Stance).Null().When(q => q.SourceId is null).WithMessage("Only together with sourceId: the stance of that source's evidence.");
        RuleFor(q => q.ReportedFrom).NotBeforeEarliest();
        RuleFor(q => q.ReportedTo).NotBeforeEarliest();
        RuleFor(q => q.UpdatedSince).NotBeforeEarliest();
        RuleFor(q => q.ReportedTo).GreaterThanOrEqualTo(q => q.ReportedFrom).When(q => q.ReportedFrom is not null && q.ReportedTo is not null)
            .WithMessage("Must not be before reportedFrom.");
        RuleFor(q => q.Q).MaximumLength(500).NoNulCharacter();
        RuleFor(q => q.Tag!.Length).LessThanOrEqualTo(ClaimRules.MaxTags).When(q => q.Tag is not null).OverridePropertyName("tag")
            .WithMessage(q => $"At most {ClaimRules.MaxTags} tags, as a claim has at most that many; {q.Tag!.Length} were sent.");
        RuleFor(q => q.Sort).Must(sort => sort is null || ClaimQuery.Sorts.Contains(sort))
            .WithMessage($"Must be one of: {string.Join(", ", ClaimQuery.Sorts)}.");
        RuleFor(q => q.Sort).NotEqual(ClaimQuery.Relevance).When(q => q.Text is null).WithMessage("relevance needs q: there is nothing to rank by.");
        RuleFor(q => q.Limit).InclusiveBetween(1, PageRequest.MaxLimit);
    }
}

/// <summary>GET /claims/similar.</summary>
public sealed record SimilarQuery(
    [property: Description("The statement you are about to log."), Required, MaxLength(2000)][FromQuery(Name = "text")] string? Text,
    [property: Description("How many, 1 to 50. Default 10."), Range(1, 50)][FromQuery(Name = "limit")] int? Limit,
    [property: Description("Lowest similarity to return, 0.1 to 1. Default 0.3."), Range(0.1, 1.0)][FromQuery(Name = "minScore")] double? MinScore)
{
    public int Size => Limit ?? 10;

    public double Threshold => MinScore ?? 0.3;
}

public sealed class SimilarQueryValidator : AbstractValidator<SimilarQuery>
{
    public SimilarQueryValidator()
    {
        RuleFor(q => q.Text).RequiredText(2000);
        RuleFor(q => q.Limit).InclusiveBetween(1, 50);
        RuleFor(q => q.MinScore).InclusiveBetween(0.1, 1.0);
    }
}

/// <summary>Settings of claim search (section "Search").</summary>
public sealed class SearchOptions
{
    /// <summary>How many of the most recently changed matches sort=relevance ranks (500 by default).</summary>
    public int RelevanceWindow { get; set; } = 500;

    /// <summary>
    /// How many claims a search may read newest first for each match it needs (40 by default)
    /// before it collects the word's matches through the full-text index instead.
    /// </summary>
    public int WalkPerMatch { get; set; } = 40;

    /// <summary>The fewest claims a search reads newest first (4,000 by default).</summary>
    public int MinimumWalk { get; set; } = 4000;

    // Written into the SQL, not bound: a generic plan knows a literal limit, and takes a bound one
    // for a tenth of the table, which could make it sort a popular tag's claims instead of walking.
    // It comes from configuration, and is the same for every page size below a hundred.
    internal long Walk(int needed) => Math.Max(MinimumWalk, (long)needed * WalkPerMatch);
}

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
internal sealed record ClaimSearch(string Sql, string? IndexedSql, DynamicParameters Parameters, Func<RankedClaimRow, Cursor> Position, int Needed, bool Relevance)
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

    public static ClaimSearch Build(ClaimQuery query, Cursor? after, SearchOptions options, bool knownRare)
    {
        var parameters = new DynamicParameters();
        parameters.Add("Take", query.Size + 1);

        // Every condition goes into Indexed and into a search without q. Recent reads one index in
        // order, so it takes in its walk only the conditions that index serves (one status, the
        // language, the order's own range) and tests the others on the claims it read: under a
        // generic plan PostgreSQL takes any tag or array of statuses for a rare one, and would
        // rather collect and sort all of a popular tag's claims than walk.
        var filters = new List<string>();
        var walked = new List<string>();
        var tested = new List<string>();
        var byUpdate = query.EffectiveSort is "-updatedAt" or ClaimQuery.Relevance;
        void Add(string condition, bool inWalk)
        {
            filters.Add(condition);
            (inWalk ? walked : tested).Add(condition);
        }

        if (query.Statuses.Length == 1)
        {
            // Equality, not ANY: PostgreSQL 15 reads (status, key, id) in key order only for one value.
            Add("c.status = @Status", byUpdate);
            parameters.Add("Status", query.Statuses[0]);
        }
        else if (query.Statuses.Length > 1)
        {
            Add("c.status = ANY(@Statuses)", false);
            parameters.Add("Statuses", query.Statuses);
        }

        if (query.Tags.Length > 0)
        {
            Add("c.tags @> @Tags", false);
            parameters.Add("Tags", query.Tags);
        }

        if (query.NormalizedLanguage is { } language)
        {
            Add("c.language = @Language", byUpdate);
            parameters.Add("Language", language);
        }

        if (query.SourceId is { } sourceId)
        {
            Add(query.Stance is null
                ? "c.id IN (SELECT e.claim_id FROM evidence e WHERE e.source_id = @SourceId)"
                : "c.id IN (SELECT e.claim_id FROM evidence e WHERE e.source_id = @SourceId AND e.stance = @Stance)", false);
            parameters.Add("SourceId", sourceId);
            parameters.Add("Stance", query.Stance);
        }

        // Written with the same expression as the -firstReportedOn index, so that one index serves both.
        var byReport = query.EffectiveSort == "-firstReportedOn";
        if (query.ReportedFrom is { } from)
        {
            Add("coalesce(c.first_reported_on, '0001-01-01'::date) >= @ReportedFrom", byReport);
            parameters.Add("ReportedFrom", from);
        }

        if (query.ReportedTo is { } to)
        {
            Add("c.first_reported_on IS NOT NULL AND coalesce(c.first_reported_on, '0001-01-01'::date) <= @ReportedTo", byReport);
            parameters.Add("ReportedTo", to);
        }

        if (query.UpdatedSince is { } since)
        {
            Add("c.updated_at >= @UpdatedSince", byUpdate);
            parameters.Add("UpdatedSince", since.UtcDateTime);
        }

        var (key, position) = query.EffectiveSort switch
        {
            "-createdAt" => ("c.created_at", (Func<RankedClaimRow, Cursor>)(r => Cursor.ForTime(r.CreatedAt, r.Id))),
            "-firstReportedOn" => ("coalesce(c.first_reported_on, '0001-01-01'::date)",
                r => new Cursor((r.FirstReportedOn ?? DateOnly.MinValue).DayNumber, r.Id)),
            ClaimQuery.Relevance => ("c.rank", r => new Cursor(BitConverter.SingleToInt32Bits(r.Rank), r.Id)),
            _ => ("c.updated_at", r => Cursor.ForTime(r.UpdatedAt, r.Id)),
        };

        var keyset = "";
        if (after is { } cursor)
        {
            // Dates go as text: Npgsql writes DateOnly.MinValue, the undated claims' key, as -infinity.
            keyset = query.EffectiveSort == "-firstReportedOn" ? $"({key}, c.id) < (@After::date, @AfterId)" : $"({key}, c.id) < (@After, @AfterId)";
            parameters.Add("AfterId", cursor.Id);
            parameters.Add("After", query.EffectiveSort switch
            {
                "-firstReportedOn" => DateOnly.FromDayNumber((int)Math.Clamp(cursor.Key, 0, DateOnly.MaxValue.DayNumber)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ClaimQuery.Relevance => BitConverter.Int32BitsToSingle((int)cursor.Key),
                _ => (object)cursor.At,
            });
        }

        if (query.Text is not { } text)
        {
            if (keyset.Length > 0)
            {
                filters.Add(keyset);
            }

            return new ClaimSearch($"""
                SELECT {ClaimsApi.QualifiedColumns("c")}, 0::real AS rank
                FROM claims c
                {Where(filters)}
                ORDER BY {key} DESC, c.id DESC
                LIMIT @Take
                """, null, parameters, position, query.Size + 1, Relevance: false);
        }

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
        var match = substring
            ? $"(c.search_vector @@ {Query} OR (split_part(c.language, '-', 1) <> 'en' AND c.statement ILIKE @Like))"
            : $"c.search_vector @@ {Query}";
        parameters.Add("Like", Patterns.Contains(text));

        if (query.EffectiveSort == ClaimQuery.Relevance)
        {
            // Ranking every match of a common word would read a tenth of the table on every request.
            // Relevance ranks the RelevanceWindow most recently changed matches instead: all of them
            // for a rarer word, the current ones for a common word. The keyset then pages through
            // the ranked window. The window keeps ids only; the page's claims are read at the end.
            parameters.Add("Window", options.RelevanceWindow);
            var walk = options.Walk(options.RelevanceWindow);
            // Only what the tests need; with a condition on the claims' other columns, all of them.
            var columns = tested.Count > 0 ? $"{ClaimsApi.QualifiedColumns("c")}, c.search_vector"
                : substring ? "c.id, c.updated_at, c.search_vector, c.language, c.statement" : "c.id, c.updated_at, c.search_vector";
            var recent = $"""
                SELECT c.id, c.search_vector
                FROM (
                    SELECT {columns}
                    FROM claims c
                    {Where(walked)}
                    ORDER BY c.updated_at DESC, c.id DESC
                    LIMIT {walk}) c
                {Where([.. tested, match])}
                ORDER BY c.updated_at DESC, c.id DESC
                LIMIT @Window
                """;
            var indexed = $"""
                SELECT c.id, c.search_vector
                FROM (
                    SELECT c.id, c.updated_at, c.search_vector
                    FROM claims c
                    {Where([.. filters, match])}
                    OFFSET 0) c
                ORDER BY c.updated_at DESC, c.id DESC
                LIMIT @Window
                """;
            return new ClaimSearch(Ranked(knownRare ? indexed : recent), knownRare ? null : Ranked(indexed),
                parameters, position, options.RelevanceWindow, Relevance: true);

            string Ranked(string window) => $"""
                {with},
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

        if (keyset.Length > 0)
        {
            Add(keyset, true);
        }

        // The sort key leaves each inner query by name, so that the outer order is the inner one.
        var pageWalk = options.Walk(query.Size + 1);
        var recentPage = $"""
            {with}
            SELECT {ClaimsApi.QualifiedColumns("c")}, 0::real AS rank
            FROM (
                SELECT {ClaimsApi.QualifiedColumns("c")}, c.search_vector, {key} AS sort_key
                FROM claims c
                {Where(walked)}
                ORDER BY {key} DESC, c.id DESC
                LIMIT {pageWalk}) c
            {Where([.. tested, match])}
            ORDER BY c.sort_key DESC, c.id DESC
            LIMIT @Take
            """;
        var indexedPage = $"""
            {with}
            SELECT {ClaimsApi.QualifiedColumns("c")}, 0::real AS rank
            FROM (
                SELECT {ClaimsApi.QualifiedColumns("c")}, {key} AS sort_key
                FROM claims c
                {Where([.. filters, match])}
                OFFSET 0) c
            ORDER BY c.sort_key DESC, c.id DESC
            LIMIT @Take
            """;
        return new ClaimSearch(knownRare ? indexedPage : recentPage, knownRare ? null : indexedPage,
            parameters, position, query.Size + 1, Relevance: false);
    }

    private static string Where(IReadOnlyCollection<string> conditions) =>
        conditions.Count == 0 ? "" : "WHERE " + string.Join("\n  AND ", conditions);

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

/// <summary>The query side of the two-character pieces that db/0002_search.sql indexes for CJK scripts.</summary>
internal static partial class CjkBigrams
{
    /// <summary>A tsquery text: each run's pieces in a row ('러시' &lt;-&gt; '시아'), runs ANDed; null without CJK text.</summary>
    public static string? Query(string text)
    {
        var runs = Run().Matches(text).Select(m => m.Value).ToList();
        if (runs.Count == 0)
        {
            return null;
        }

        return string.Join(" & ", runs.Select(run => run.Length == 1
            ? $"'{run}'"
            : "(" + string.Join(" <-> ", Enumerable.Range(0, run.Length - 1).Select(i => $"'{run.Substring(i, 2)}'")) + ")"));
    }

    // The same character classes as the SQL function: Hangul jamo, kana, CJK ideographs, Hangul syllables.
    [System.Text.RegularExpressions.GeneratedRegex("[\u1100-\u11FF\u3040-\u30FF\u3400-\u9FFF\uAC00-\uD7AF]+")]
    private static partial System.Text.RegularExpressions.Regex Run();
}
