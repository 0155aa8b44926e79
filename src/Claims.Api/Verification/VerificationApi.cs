using Claims.Api.Auth;
using Claims.Api.Claims;
using Claims.Api.Data;
using Claims.Api.Errors;
using Claims.Api.Events;
using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Api.OpenApi;
using Claims.Api.Provenance;
using Claims.Api.Validation;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Verification;

public static class VerificationApi
{
    // The counts come from one index range scan on evidence (claim_id); the origins' are kept on
    // the claim's row (Origins.CountsOf), since working them out costs a look-up per item. They are
    // NULL for a claim not counted yet (OriginCountsBackfill), which CountedAsync counts then: a
    // fallback inside this statement would cost every read its plan's start-up.
    //
    // A duplicate answers its canonical's status (claims.canonical_claim_id): read in a second
    // round trip, only for the few claims that are duplicates. Following it in this statement, a
    // probe of the duplicates' index for every look-up, cost 0.89 of the look-up without it.
    private const string StatusSql =
        """
        SELECT c.id AS claim_id, c.status, c.status_note, c.status_updated_at AS updated_at, c.version, n.*,
               c.origin_counts[1] AS asserts_origins, c.origin_counts[2] AS supports_origins, c.origin_counts[3] AS refutes_origins,
               c.origin_counts[4] AS unable_to_verify_origins, c.origin_counts[5] AS mentions_origins,
               c.canonical_claim_id
        FROM claims c
        CROSS JOIN LATERAL (
            SELECT count(*) FILTER (WHERE e.stance = 'asserts')::int AS asserts,
                   count(*) FILTER (WHERE e.stance = 'supports')::int AS supports,
                   count(*) FILTER (WHERE e.stance = 'refutes')::int AS refutes,
                   count(*) FILTER (WHERE e.stance = 'unable_to_verify')::int AS unable_to_verify,
                   count(*) FILTER (WHERE e.stance = 'mentions')::int AS mentions
            FROM evidence e WHERE e.claim_id = c.id) n
        """;


    public static RouteGroupBuilder MapVerification(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/claims/{id:guid}").WithTags("Verification");

        app.MapPost("/claims/statuses", GetStatuses).WithName(nameof(GetStatuses)).Allow(Role.Reader).ReadsOnly().WithTags("Verification")
            .WithSummary("Read many claims' statuses at once")
            .WithDescription("1 to 500 ids in one request and one database round trip. Ids that name no claim are listed under unknownIds.");

        app.MapGet("/claims/status-rules", GetStatusRules).WithName(nameof(GetStatusRules)).Allow(Role.Reader).WithTags("Verification")
            .WithSummary("Read what each verification status needs")
            .WithDescription("The rules PUT /claims/{id}/status applies, as data and in words: which statuses need a note, and which need evidence of a stance. The same table the API enforces, so that a client can explain a refusal before it happens.");

        group.MapGet("/status", GetStatus).WithName(nameof(GetStatus)).Allow(Role.Reader).AnswerNotModified()
            .WithSummary("Read a claim's verification status")
            .WithDescription("The small answer for HTTP clients that poll: status, note, when it last changed, the evidence count per stance, and the number of independent origins per stance. Its ETag changes exactly when status, note, evidence counts or origin counts do; send it back in If-None-Match to get 304 with no body while nothing changed.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/status", ChangeStatus).WithName(nameof(ChangeStatus)).Allow(Role.Editor).RequireIfMatch()
            .WithSummary("Move a claim to another verification status")
            .WithDescription("Records the change and its note in the claim's history in the same transaction. confirmed, disputed, false and inconclusive need a note; confirmed needs 'supports' evidence and false needs 'refutes' evidence, from an origin independent of the claim's asserters unless Claims:IndependentOrigins is off (409 otherwise, naming the evidence that did not count). Setting the current status again changes nothing; with a different note it is 409, showing what is stored. Needs If-Match with the claim's ETag or the status answer's ETag: 428 without it, 412 if the claim has changed since.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/history", GetHistory).WithName(nameof(GetHistory)).Allow(Role.Reader)
            .WithSummary("Read a claim's status history, oldest first")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return group;
    }

    public static Ok<StatusRules> GetStatusRules(IOptions<ClaimsOptions> options) => TypedResults.Ok(Verdicts.For(options.Value.IndependentOrigins));

    public static async Task<Results<Ok<ClaimStatusView>, ProblemHttpResult>> GetStatus(
        Guid id, HttpContext http, Reads reads, CancellationToken ct)
    {
        await using var connection = await reads.OpenAsync(http, ct);
        var row = await connection.QuerySingleOrDefaultAsync<StatusRow>(new CommandDefinition(StatusSql + " WHERE c.id = @id", new { id }, cancellationToken: ct));
        if (row is null)
        {
            return Problems.NotFound("claim", id);
        }

        row = (await CountedAsync(connection, null, await FollowedAsync(connection, [row], ct), ct))[0];

        var view = row.ToView();
        var etag = StatusRow.ETag(view);
        // Cache-Control "private, no-cache" (ResponseHeaders): the caller's cache may keep the
        // answer but must ask again each time; the ETag makes asking again cost a 304 without a body.
        http.Response.Headers.ETag = etag;
        return TypedResults.Ok(view);
    }

    public static async Task<Ok<StatusesResponse>> GetStatuses(StatusesRequest request, HttpContext http, Reads reads, CancellationToken ct)
    {
        var ids = request.Ids!.Distinct().ToArray();
        await using var connection = await reads.OpenAsync(http, ct);
        var read = (await connection.QueryAsync<StatusRow>(new CommandDefinition(
            StatusSql + " WHERE c.id = ANY(@ids)", new { ids }, cancellationToken: ct))).AsList();
        var rows = (await CountedAsync(connection, null, await FollowedAsync(connection, read, ct), ct)).ToDictionary(r => r.ClaimId);
        return TypedResults.Ok(new StatusesResponse(
            [.. ids.Where(rows.ContainsKey).Select(i => rows[i].ToView())],
            [.. ids.Where(i => !rows.ContainsKey(i))]));
    }

    public static async Task<Results<Ok<ClaimStatusView>, ProblemHttpResult>> ChangeStatus(
        Guid id, StatusChangeRequest request, HttpContext http, NpgsqlDataSource db, EventLog events, IOptions<ClaimsOptions> options, CancellationToken ct)
    {
        if (!IfMatch.TryRead(http.Request, "claim's status", out var ifMatch, out var refusal))
        {
            return refusal;
        }

        var target = request.Status!.Value;
        return await Transactions.RetryOnConflictAsync<Results<Ok<ClaimStatusView>, ProblemHttpResult>>(async ct =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await using var commit = Commit.For(transaction, ct);

            // The row lock makes concurrent changes of one claim (and evidence changes, which update
            // it) queue up. The counts and the items the verdict rules weigh are read by later
            // statements, after the lock is held, so that they see what the previous holder
            // committed. The time of the change is taken then too, so that the change and its
            // event can go in one round trip. All four go in one.
            StatusRow? current;
            List<TracedEvidence> weighed;
            DateTime now;
            await using (var read = await connection.QueryMultipleAsync(new CommandDefinition(
                $"""
                SELECT 1 FROM claims WHERE id = @id FOR UPDATE;
                {StatusSql} WHERE c.id = @id;
                {Origins.TracedSql} AND e.stance IN ('asserts', 'supports', 'refutes');
                SELECT clock_timestamp();
                """, new { id }, transaction, cancellationToken: ct)))
            {
                await read.ReadAsync<int>();
                current = await read.ReadSingleOrDefaultAsync<StatusRow>();
                weighed = [.. await read.ReadAsync<TracedEvidence>()];
                now = await read.ReadSingleAsync<DateTime>();
            }

            if (current is null)
            {
                return Problems.NotFound("claim", id);
            }

            if (current.CanonicalClaimId is { } canonical)
            {
                return ProblemTypes.ClaimIsDuplicate.Result(
                    $"The claim is recorded as a duplicate of {canonical}, whose status is authoritative: change that claim's status (PUT /claims/{canonical}/status) instead. Nothing was changed.",
                    new Dictionary<string, object?> { ["canonicalClaimId"] = canonical });
            }

            current = (await CountedAsync(connection, transaction, [current], ct))[0];

            var view = current.ToView();
            // Either tag names the state the client saw: the claim's (its version) or the status
            // answer's (status, note and counts).
            if (!ifMatch.Matches(Versions.ETag(current.Version)) && !ifMatch.Matches(StatusRow.ETag(view)))
            {
                return Versions.PreconditionFailed("claim", Versions.ETag(current.Version));
            }

            var note = VisibleText.OrNull(request.Note);
            if (view.Status == target)
            {
                // A note belongs to a move (the history has one entry per move), so a new note on
                // the same status cannot be stored; saying 200 with the old one would hide that.
                if (note is not null && note != view.Note)
                {
                    return ProblemTypes.NoteNeedsStatusChange.Result(
                        $"The claim is already {target.ToName()}, and a note is recorded with a move to another status. The stored note is {(view.Note is null ? "empty" : $"\"{view.Note}\"")}; nothing was changed.",
                        new Dictionary<string, object?> { ["current"] = view });
                }

                http.Response.Headers.ETag = StatusRow.ETag(view);
                return TypedResults.Ok(view);
            }

            if (Verdicts.MissingEvidence(target, weighed, options.Value.IndependentOrigins) is { } refusal)
            {
                return refusal;
            }

            var changedBy = Caller.Name(http.User);
            var changed = view with { Status = target, Note = note, UpdatedAt = now };
            var parameters = new DynamicParameters(new { changeId = Guid.CreateVersion7(), id, from = current.Status, to = target.ToName(), note, changedBy, now });
            var appendEvent = events.Statement(commit, changedBy,
                [new NewEvent(EventType.ClaimStatusChanged, id, id, new StatusChangedData(view.Status, target, note, changedBy, changed))], parameters);
            await connection.ExecuteAsync(new CommandDefinition(
                $"""
                INSERT INTO claim_status_changes (id, claim_id, from_status, to_status, note, changed_by, changed_at)
                VALUES (@changeId, @id, @from, @to, @note, @changedBy, @now);
                UPDATE claims SET status = @to, status_note = @note, updated_at = @now, status_updated_at = @now, version = version + 1
                WHERE id = @id;
                {appendEvent}
                """,
                parameters, transaction, cancellationToken: ct));
            await commit.RunAsync();
            http.Response.Headers.ETag = StatusRow.ETag(changed);
            return TypedResults.Ok(changed);
        }, ct);
    }

    /// <summary>
    /// The rows, each duplicate's replaced by its canonical's under the duplicate's id (one more
    /// statement, and only when there are duplicates). A canonical deleted meanwhile leaves the
    /// duplicate's own row.
    /// </summary>
    private static async Task<IReadOnlyList<StatusRow>> FollowedAsync(NpgsqlConnection connection, IReadOnlyList<StatusRow> rows, CancellationToken ct)
    {
        var canonicals = rows.Where(r => r.CanonicalClaimId is not null).Select(r => r.CanonicalClaimId!.Value).Distinct().ToArray();
        if (canonicals.Length == 0)
        {
            return rows;
        }

        var read = (await connection.QueryAsync<StatusRow>(new CommandDefinition(
            StatusSql + " WHERE c.id = ANY(@canonicals)", new { canonicals }, cancellationToken: ct))).ToDictionary(r => r.ClaimId);
        return [.. rows.Select(r => r.CanonicalClaimId is not { } canonical ? r
            : read.TryGetValue(canonical, out var followed) ? followed with { ClaimId = r.ClaimId, CanonicalClaimId = canonical }
            : r with { CanonicalClaimId = null })];
    }

    private sealed record CountedRow(Guid ClaimId, int AssertsOrigins, int SupportsOrigins, int RefutesOrigins, int UnableToVerifyOrigins, int MentionsOrigins);

    /// <summary>The rows, with the origins of those not counted yet counted now (one more statement, and only then).</summary>
    private static async Task<IReadOnlyList<StatusRow>> CountedAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<StatusRow> rows, CancellationToken ct)
    {
        var uncounted = rows.Where(r => r.AssertsOrigins is null).Select(r => r.Judged).Distinct().ToArray();
        if (uncounted.Length == 0)
        {
            return rows;
        }

        var counted = (await connection.QueryAsync<CountedRow>(new CommandDefinition(
            $"""
            SELECT c.id AS claim_id, o.counts[1] AS asserts_origins, o.counts[2] AS supports_origins, o.counts[3] AS refutes_origins,
                   o.counts[4] AS unable_to_verify_origins, o.counts[5] AS mentions_origins
            FROM claims c CROSS JOIN LATERAL (SELECT {Origins.CountsOf("c.id")} AS counts OFFSET 0) o
            WHERE c.id = ANY(@uncounted)
            """,
            new { uncounted }, transaction, cancellationToken: ct))).ToDictionary(c => c.ClaimId);
        return [.. rows.Select(r => counted.TryGetValue(r.Judged, out var c)
            ? r with { AssertsOrigins = c.AssertsOrigins, SupportsOrigins = c.SupportsOrigins, RefutesOrigins = c.RefutesOrigins, UnableToVerifyOrigins = c.UnableToVerifyOrigins, MentionsOrigins = c.MentionsOrigins }
            : r)];
    }

    public static async Task<Results<Ok<Page<StatusChange>>, ProblemHttpResult, ValidationProblem>> GetHistory(
        Guid id, [AsParameters] PageRequest page, HttpContext http, Reads reads, CursorProtector cursors, CancellationToken ct)
    {
        var scope = $"history:{id}";
        if (!cursors.TryDecode<TimeKey>(page.Cursor, scope, out var after))
        {
            return PageExtensions.BadCursor();
        }

        var filter = after is null ? "" : "AND (changed_at, id) > (@At, @Id)";
        await using var connection = await reads.OpenAsync(http, ct);
        var rows = await connection.ChildPageAsync<StatusChangeRow>("claims", id,
            $"""
            SELECT id, from_status, to_status, note, changed_at, changed_by
            FROM claim_status_changes
            WHERE claim_id = @ParentId {filter}
            ORDER BY changed_at, id
            LIMIT @Take
            """,
            after, page.Size, ct);
        if (rows is null)
        {
            return Problems.NotFound("claim", id);
        }

        return TypedResults.Ok(rows.ToPage(page.Size, r => r.ToChange(), r => new TimeKey(r.ChangedAt, r.Id), cursors, scope));
    }
}
