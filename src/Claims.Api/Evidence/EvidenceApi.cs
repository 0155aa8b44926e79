using Claims.Api.Auth;
using Claims.Api.Claims;
using Claims.Api.Data;
using Claims.Api.Errors;
using Claims.Api.Events;
using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Api.OpenApi;
using Claims.Api.Provenance;
using Claims.Api.Verification;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Evidence;

public static class EvidenceApi
{
    // The claim whose verdict an evidence item of the claim @id may ground: its canonical, or itself.
    private const string Judged = "(SELECT coalesce(d.canonical_claim_id, d.id) FROM claims d WHERE d.id = @id)";

    public static RouteGroupBuilder MapEvidence(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/claims/{id:guid}/evidence").WithTags("Evidence");

        group.MapPost("/", AddEvidence).WithName(nameof(AddEvidence)).Allow(Role.Reporter).AcceptIdempotencyKey()
            .WithSummary("Link a source to a claim")
            .WithDescription("Records what an existing source said about the claim, with its stance, quote and credibility, and the sources it relays (viaSourceIds, nearest first) when it does not speak for itself. With an Idempotency-Key, a retry replays the first answer instead of linking twice.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/", ListEvidence).WithName(nameof(ListEvidence)).Allow(Role.Reader)
            .WithSummary("List a claim's evidence, newest first")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{evidenceId:guid}", GetEvidence).WithName(nameof(GetEvidence)).Allow(Role.Reader)
            .WithSummary("Read one evidence item")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{evidenceId:guid}", DeleteEvidence).WithName(nameof(DeleteEvidence)).Allow(Role.Editor)
            .WithSummary("Unlink a source from a claim")
            .WithDescription("Answers 409 when the item is the last one that a confirmed claim's verdict rests on (the last 'supports', or the last one independent of the claim's asserters) or a false claim's (the last 'refutes' likewise): move the status first.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        return group;
    }

    public static async Task<Results<Created<EvidenceItem>, ProblemHttpResult, ValidationProblem>> AddEvidence(
        Guid id, EvidenceRequest request, HttpContext http, NpgsqlDataSource db, Idempotency idempotency, EventLog events, CancellationToken ct)
    {
        var key = idempotency.Read(http, request, out var badKey);
        if (badKey is not null)
        {
            return badKey;
        }

        return await Transactions.RetryOnConflictAsync<Results<Created<EvidenceItem>, ProblemHttpResult, ValidationProblem>>(async ct =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await using var commit = Commit.For(transaction, ct);
            var (refusal, replay) = await Idempotency.GuardAsync(connection, transaction, key, ct);
            if (refusal is not null)
            {
                return refusal;
            }

            if (replay is not null)
            {
                return TypedResults.Created(replay.Location, idempotency.Replayed<EvidenceItem>(http, replay));
            }

            // The evidence is part of the claim, so the claim's version moves; the update also locks
            // the claim, so that a status change cannot judge it on a stale evidence count. The
            // chain's sources have no foreign key: they are held until commit instead, so that
            // none can be deleted under the new item.
            // The counting lock comes first, before the claim's row is locked (Origins.CountingLock).
            var via = request.ViaSourceIds ?? [];
            (bool ClaimExists, bool SourceExists, Guid[] Found) state;
            await using (var read = await connection.QueryMultipleAsync(new CommandDefinition(
                $"""
                {Origins.CountingLock}
                WITH claim AS (UPDATE claims SET updated_at = clock_timestamp(), status_updated_at = clock_timestamp(), version = version + 1 WHERE id = @id RETURNING id),
                     chain AS (SELECT id FROM sources WHERE id = ANY(@via) FOR KEY SHARE)
                SELECT EXISTS (SELECT 1 FROM claim), EXISTS (SELECT 1 FROM sources WHERE id = @sourceId), ARRAY(SELECT id FROM chain)
                """,
                new { id, sourceId = request.SourceId, via = via.ToArray() }, transaction, cancellationToken: ct)))
            {
                await read.ReadAsync<object>();
                state = await read.ReadSingleAsync<(bool, bool, Guid[])>();
            }

            if (!state.ClaimExists)
            {
                return Problems.NotFound("claim", id);
            }

            if (!state.SourceExists)
            {
                return Problems.Invalid("sourceId", $"There is no source with id {request.SourceId}.");
            }

            if (via.Count > state.Found.Length)
            {
                return Problems.Invalid(via.Select((v, j) => (v, j)).Where(v => !state.Found.Contains(v.v))
                    .ToDictionary(v => $"viaSourceIds[{v.j}]", v => new[] { $"There is no source with id {v.v}." }));
            }

            var evidenceId = Guid.CreateVersion7();
            var actor = Caller.Name(http.User);
            await EvidenceStore.InsertAsync(connection, transaction, id, [(evidenceId, request)], actor, ct);
            var item = (await connection.QuerySingleAsync<EvidenceRow>(new CommandDefinition(
                // With the claim's id too, as every statement on a claim's rows: one shard, were claims distributed by it.
                $"SELECT {EvidenceStore.SelectColumns} FROM evidence e JOIN sources s ON s.id = e.source_id WHERE e.id = @evidenceId AND e.claim_id = @id",
                new { evidenceId, id }, transaction, cancellationToken: ct))).ToItem();
            var location = $"/claims/{id}/evidence/{evidenceId}";
            await idempotency.CompleteAsync(connection, transaction, key, StatusCodes.Status201Created, location, item, ct);
            await events.AppendAsync(commit, actor, new NewEvent(EventType.EvidenceAdded, evidenceId, id, item), ct);

            await commit.RunAsync();
            return TypedResults.Created(location, item);
        }, ct);
    }

    public static async Task<Results<Ok<Page<EvidenceItem>>, ProblemHttpResult, ValidationProblem>> ListEvidence(
        Guid id, [AsParameters] PageRequest page, HttpContext http, Reads reads, CursorProtector cursors, CancellationToken ct)
    {
        var scope = $"evidence:{id}";
        if (!cursors.TryDecode<TimeKey>(page.Cursor, scope, out var after))
        {
            return PageExtensions.BadCursor();
        }

        var filter = after is null ? "" : "AND (e.created_at, e.id) < (@At, @Id)";
        await using var connection = await reads.OpenAsync(http, ct);
        var rows = await connection.ChildPageAsync<EvidenceRow>("claims", id,
            $"""
            SELECT {EvidenceStore.SelectColumns}
            FROM evidence e JOIN sources s ON s.id = e.source_id
            WHERE e.claim_id = @ParentId {filter}
            ORDER BY e.created_at DESC, e.id DESC
            LIMIT @Take
            """,
            after, page.Size, ct);
        if (rows is null)
        {
            return Problems.NotFound("claim", id);
        }

        return TypedResults.Ok(rows.ToPage(page.Size, r => r.ToItem(), r => new TimeKey(r.CreatedAt, r.Id), cursors, scope));
    }

    public static async Task<Results<Ok<EvidenceItem>, ProblemHttpResult>> GetEvidence(Guid id, Guid evidenceId, HttpContext http, Reads reads, CancellationToken ct)
    {
        await using var connection = await reads.OpenAsync(http, ct);
        var row = await connection.QuerySingleOrDefaultAsync<EvidenceRow>(new CommandDefinition(
            $"SELECT {EvidenceStore.SelectColumns} FROM evidence e JOIN sources s ON s.id = e.source_id WHERE e.id = @evidenceId AND e.claim_id = @id",
            new { id, evidenceId }, cancellationToken: ct));
        return row is null ? Problems.NotFound("evidence item", evidenceId) : TypedResults.Ok(row.ToItem());
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteEvidence(
        Guid id, Guid evidenceId, HttpContext http, NpgsqlDataSource db, EventLog events, IOptions<ClaimsOptions> options, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        // For a duplicate, the verdict at stake is its canonical's, weighed on the evidence of the
        // canonical and all its duplicates, and its own stored one too, which it takes back if it
        // stops being a duplicate. The claim's row is locked first, then the canonical's, in the
        // order an evidence write takes them; NO KEY UPDATE, so that a relation recorded between
        // the two claims meanwhile (KEY SHARE on both) does not wait on them in the other order.
        // Lock first, read in later statements of the same batch: a delete that waited for the
        // lock must weigh what the previous holder left, or two concurrent deletes could each see
        // the other's 'supports' item and remove the last two together.
        OwnClaim? own;
        string? status;
        List<TracedEvidence> weighed;
        await using (var read = await connection.QueryMultipleAsync(new CommandDefinition(
            $"""
            {Origins.CountingLock}
            SELECT 1 FROM claims WHERE id = @id FOR NO KEY UPDATE;
            SELECT 1 FROM claims WHERE id = (SELECT d.canonical_claim_id FROM claims d WHERE d.id = @id) FOR NO KEY UPDATE;
            SELECT status, canonical_claim_id FROM claims WHERE id = @id;
            SELECT status FROM claims WHERE id = {Judged};
            {Origins.Traced(Judged)} AND (e.stance IN ('asserts', 'supports', 'refutes') OR e.id = @evidenceId);
            """,
            new { id, evidenceId }, transaction, cancellationToken: ct)))
        {
            await read.ReadAsync<object>();
            await read.ReadAsync<int>();
            await read.ReadAsync<int>();
            own = await read.ReadSingleOrDefaultAsync<OwnClaim>();
            status = await read.ReadSingleOrDefaultAsync<string>();
            weighed = [.. await read.ReadAsync<TracedEvidence>()];
        }

        var target = weighed.Find(e => e.EvidenceId == evidenceId && e.ClaimId == id);
        if (own is null || status is null || target is null)
        {
            return Problems.NotFound("evidence item", evidenceId);
        }

        var independent = options.Value.IndependentOrigins;
        if (RestsOn(status, weighed, target, independent) is { } refusal)
        {
            return refusal;
        }

        if (own.CanonicalClaimId is not null && RestsOn(own.Status, [.. weighed.Where(e => e.ClaimId == id)], target, independent) is { } ownRefusal)
        {
            return ownRefusal;
        }

        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            {Origins.CountingLock}
            DELETE FROM evidence WHERE id = @evidenceId AND claim_id = @id;
            UPDATE claims SET updated_at = clock_timestamp(), status_updated_at = clock_timestamp(), version = version + 1,
                              origin_counts = {Origins.CountsOf("@id")}
            WHERE id = @id;
            {Origins.RecountCanonicalOf("@id")}
            """,
            new { id, evidenceId }, transaction, cancellationToken: ct));
        await events.AppendAsync(commit, Caller.Name(http.User),
            new NewEvent(EventType.EvidenceRemoved, evidenceId, id, new EvidenceTombstone(evidenceId, id)), ct);
        await commit.RunAsync();
        return TypedResults.NoContent();
    }

    private sealed record OwnClaim(string Status, Guid? CanonicalClaimId);

    /// <summary>
    /// The refusal when <paramref name="target"/> is what a verdict of <paramref name="status"/>
    /// rests on among <paramref name="weighed"/>, or null. Refused only then: a verdict that the
    /// evidence no longer grounds (a later 'asserts' from its supporter, say) does not block
    /// other removals.
    /// </summary>
    private static ProblemHttpResult? RestsOn(string status, List<TracedEvidence> weighed, TracedEvidence target, bool independent)
    {
        var verdict = EnumNames<ClaimStatus>.Parse(status);
        var rest = weighed.Where(e => e.EvidenceId != target.EvidenceId).ToList();
        if (!Verdicts.Grounds(verdict, weighed, independent).Holds || Verdicts.Grounds(verdict, rest, independent).Holds)
        {
            return null;
        }

        return ProblemTypes.VerdictRestsOnEvidence.Result(rest.Any(e => e.Stance == target.Stance)
            ? $"The claim is {status} and this is its last '{target.Stance}' evidence independent of its asserters. Change the claim's status first, or add other independent '{target.Stance}' evidence."
            : $"The claim is {status} and this is its only '{target.Stance}' evidence. Change the claim's status first, or add other '{target.Stance}' evidence.");
    }
}
