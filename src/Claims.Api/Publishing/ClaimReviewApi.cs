using Claims.Api.Data;
using Claims.Api.Auth;
using Claims.Api.Claims;
using Claims.Api.Errors;
using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Api.OpenApi;
using Claims.Api.Sources;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Publishing;

/// <summary>Verdicts published as schema.org ClaimReview, one at a time or as a DataFeed for partners that harvest.</summary>
public static class ClaimReviewApi
{
    public const string MediaType = "application/ld+json";

    private const string Closing = "('confirmed', 'disputed', 'false', 'inconclusive')";

    // The verdict's time is the claim's last move (to its status); status_updated_at also moves
    // with evidence, so it is only the fallback for a claim without history.
    private const string ClaimSql =
        """
        SELECT c.id, c.statement, c.language, c.status, c.first_reported_on, c.canonical_claim_id,
               coalesce((SELECT sc.changed_at FROM claim_status_changes sc WHERE sc.claim_id = c.id
                         ORDER BY sc.changed_at DESC, sc.id DESC LIMIT 1), c.status_updated_at) AS verdict_at
        FROM claims c WHERE c.id = @id;
        """;

    // A verdict is the last move of a claim, to the status it still has; a duplicate's is its
    // canonical's, published once, under the canonical. Walked in the order of
    // claim_status_changes_verdicts_idx (db/0014); the NOT EXISTS probes the per-claim index.
    private const string FeedSql =
        $"""
        SELECT c.id, c.statement, c.language, c.status, c.first_reported_on, sc.changed_at AS verdict_at, sc.id AS change_id
        FROM claim_status_changes sc
        JOIN claims c ON c.id = sc.claim_id AND c.status = sc.to_status
        WHERE sc.to_status IN {Closing} AND c.canonical_claim_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM claim_status_changes later
                          WHERE later.claim_id = sc.claim_id AND (later.changed_at, later.id) > (sc.changed_at, sc.id))
        """;

    // What the ClaimReview takes from evidence: who asserts the claim, and where it appeared.
    private const string EvidenceSql =
        """
        SELECT e.claim_id, e.stance, e.url, e.published_at, s.name AS source_name, s.kind AS source_kind, s.url AS source_url, s.id AS source_id
        FROM evidence e JOIN sources s ON s.id = e.source_id
        WHERE e.claim_id = ANY(@ids) AND e.stance IN ('asserts', 'mentions')
        ORDER BY e.claim_id, e.published_at NULLS LAST, e.created_at, e.id;
        """;

    public static RouteGroupBuilder MapClaimReviews(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Publishing");

        group.MapGet("/claims/{id:guid}/claimreview", GetClaimReview).WithName(nameof(GetClaimReview)).Allow(Role.Reader)
            .WithSummary("Publish a claim's verdict as a schema.org ClaimReview")
            .WithDescription("JSON-LD (application/ld+json) with the properties Google's fact-check guidance requires and recommends: claimReviewed, reviewRating (1 false, 2 disputed, 3 inconclusive as Unproven, 5 confirmed as True; alternateName in words), url, author, publisher, datePublished (when the verdict was reached), inLanguage, and itemReviewed, the Claim with its author (the sources that assert it, Person or Organization by their kind), datePublished, firstAppearance and appearance from its evidence. Only for a claim with a verdict: 409 no-verdict-yet while it is unverified or in_review, and 409 claim-is-duplicate for a claim recorded as a duplicate (its canonical's verdict is published).")
            .Produces<ClaimReview>(StatusCodes.Status200OK, MediaType)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithMetadata(
                new ProducesResponseTypeMetadata(StatusCodes.Status409Conflict, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), [ProblemWriter.ContentType])
                {
                    Description = "The claim has no verdict yet (problem no-verdict-yet): it is unverified or in_review; or it is recorded as a duplicate (problem claim-is-duplicate), whose canonical's verdict is published.",
                },
                new AnswerExample(StatusCodes.Status409Conflict, ProblemTypes.NoVerdictYet.Slug, "The claim is still in review", ClaimReviewExamples.NoVerdictYet()));
        group.MapGet("/claimreview", ListClaimReviews).WithName(nameof(ListClaimReviews)).Allow(Role.Reader)
            .WithSummary("Harvest published verdicts as a schema.org DataFeed")
            .WithDescription("Every claim with a verdict (confirmed, false, disputed or inconclusive) as a ClaimReview under dataFeedElement, oldest verdict first. A harvester keeps the datePublished of the last element it stored and asks again with updatedSince set to it (the element of that very moment comes again; elements are keyed by their url). A claim moved to another verdict comes again with its new one; one moved back to in_review, or recorded as a duplicate, leaves the feed. Keyset pages: pass nextCursor back unchanged with the same updatedSince.")
            .Produces<ClaimReviewFeed>(StatusCodes.Status200OK, MediaType);

        return group;
    }

    public static async Task<Results<JsonHttpResult<ClaimReview>, ProblemHttpResult>> GetClaimReview(
        Guid id, HttpContext http, Reads reads, IOptions<PublisherOptions> options, CancellationToken ct)
    {
        await using var connection = await reads.OpenAsync(http, ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            ClaimSql + EvidenceSql, new { id, ids = new[] { id } }, cancellationToken: ct));
        var row = await results.ReadSingleOrDefaultAsync<VerdictRow>();
        var evidence = (await results.ReadAsync<AppearanceRow>()).AsList();
        if (row is null)
        {
            return Problems.NotFound("claim", id);
        }

        if (row.CanonicalClaimId is { } canonical)
        {
            return ProblemTypes.ClaimIsDuplicate.Result(
                $"The claim is recorded as a duplicate of {canonical}, whose verdict is the one published: GET /claims/{canonical}/claimreview.",
                new Dictionary<string, object?> { ["canonicalClaimId"] = canonical });
        }

        var status = EnumNames<ClaimStatus>.Parse(row.Status);
        if (!ClaimReviewRatings.Ratings.ContainsKey(status))
        {
            return ProblemTypes.NoVerdictYet.Result(NoVerdictDetail(id, status));
        }

        return TypedResults.Json(Review(row, evidence, new Publication(options.Value, http.Request)), contentType: MediaType);
    }

    public static async Task<Results<JsonHttpResult<ClaimReviewFeed>, ValidationProblem>> ListClaimReviews(
        [AsParameters] ClaimReviewFeedQuery query, HttpContext http, Reads reads, CursorProtector cursors, IOptions<PublisherOptions> options,
        CancellationToken ct)
    {
        if (!cursors.TryDecode<TimeKey>(query.Cursor, query.Scope, out var after))
        {
            return PageExtensions.BadCursor();
        }

        await using var connection = await reads.OpenAsync(http, ct);
        var rows = (await connection.QueryAsync<VerdictRow>(new CommandDefinition(
            $"""
            {FeedSql}
            {(query.UpdatedSince is null ? "" : "AND sc.changed_at >= @Since")}
            {(after is null ? "" : "AND (sc.changed_at, sc.id) > (@At, @Id)")}
            ORDER BY sc.changed_at, sc.id
            LIMIT @Take
            """,
            new { Since = query.UpdatedSince?.UtcDateTime, after?.At, after?.Id, Take = query.Size + 1 }, cancellationToken: ct))).AsList();
        var page = rows.Take(query.Size).ToList();
        var evidence = (page.Count == 0 ? [] : await connection.QueryAsync<AppearanceRow>(new CommandDefinition(
            EvidenceSql, new { ids = page.Select(r => r.Id).ToArray() }, cancellationToken: ct))).ToLookup(e => e.ClaimId);

        var publishing = new Publication(options.Value, http.Request);
        var next = rows.Count > query.Size ? cursors.Encode(new TimeKey(page[^1].VerdictAt, page[^1].ChangeId), query.Scope) : null;
        return TypedResults.Json(
            new ClaimReviewFeed(Context, "DataFeed", [.. page.Select(r => Review(r, [.. evidence[r.Id]], publishing))], next),
            contentType: MediaType);
    }

    internal const string Context = "https://schema.org";

    internal static string NoVerdictDetail(Guid id, ClaimStatus status) =>
        $"The claim {id} is {status.ToName()}: a ClaimReview publishes a verdict (confirmed, false, disputed or inconclusive), and this claim has none yet.";

    /// <summary>The ClaimReview of a claim with a verdict; <paramref name="evidence"/> is its asserting and mentioning evidence, earliest first.</summary>
    internal static ClaimReview Review(VerdictRow row, IReadOnlyList<AppearanceRow> evidence, Publication publishing)
    {
        var asserting = evidence.Where(e => e.Stance == "asserts").ToList();
        // One author per source, however many times it asserts the claim.
        var authors = asserting.DistinctBy(e => e.SourceId)
            .Select(e => new ClaimReviewParty(e.SourceKind == SourceKind.Person.ToName() ? "Person" : "Organization", e.SourceName, e.SourceUrl))
            .ToList();
        var first = asserting.FirstOrDefault(e => e.Url is not null);
        var appearances = evidence.Where(e => e.Url is not null && !ReferenceEquals(e, first))
            .Select(e => new ClaimReviewWork("CreativeWork", e.Url!, e.PublishedAt))
            .ToList();
        var claimDate = row.FirstReportedOn ?? (asserting.Min(e => e.PublishedAt) is { } earliest ? DateOnly.FromDateTime(earliest) : null);

        return new ClaimReview(
            Context, "ClaimReview", publishing.ReviewUrl(row.Id), row.Statement,
            ClaimReviewRatings.Rating(EnumNames<ClaimStatus>.Parse(row.Status)),
            new ClaimReviewClaim(
                "Claim",
                authors.Count > 0 ? authors : null,
                claimDate,
                first is null ? null : new ClaimReviewWork("CreativeWork", first.Url!, first.PublishedAt),
                appearances.Count > 0 ? appearances : null),
            publishing.Newsroom, publishing.Newsroom, row.VerdictAt, row.Language);
    }

    /// <summary>The newsroom and its review URLs, from the settings or, where they are not set, from this API's own address.</summary>
    internal sealed class Publication
    {
        private readonly string _pattern;

        public Publication(PublisherOptions options, HttpRequest request)
        {
            var self = $"{request.Scheme}://{request.Host}{request.PathBase}";
            Newsroom = new ClaimReviewParty("Organization", options.Name, options.Url ?? self + "/");
            _pattern = options.ReviewUrlPattern ?? self + "/claims/" + PublisherOptions.IdPlaceholder;
        }

        public ClaimReviewParty Newsroom { get; }

        public string ReviewUrl(Guid id) => _pattern.Replace(PublisherOptions.IdPlaceholder, id.ToString(), StringComparison.Ordinal);
    }

    // Properties rather than positional records: the single review's query has no change_id.
    internal sealed record VerdictRow
    {
        public Guid Id { get; init; }
        public string Statement { get; init; } = "";
        public string Language { get; init; } = "";
        public string Status { get; init; } = "";
        public DateOnly? FirstReportedOn { get; init; }
        public Guid? CanonicalClaimId { get; init; }
        public DateTime VerdictAt { get; init; }
        public Guid ChangeId { get; init; }
    }

    internal sealed record AppearanceRow(
        Guid ClaimId, string Stance, string? Url, DateTime? PublishedAt, string SourceName, string SourceKind, string? SourceUrl, Guid SourceId);
}
