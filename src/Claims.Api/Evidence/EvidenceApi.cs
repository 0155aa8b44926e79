using Claims.Api.Auth;
using Claims.Api.Data;
using Claims.Api.Errors;
using Claims.Api.Events;
using Claims.Api.Http;
using Claims.Api.OpenApi;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Claims.Api.Evidence;

public static class EvidenceApi
{
    public static RouteGroupBuilder MapEvidence(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/claims/{id:guid}/evidence").WithTags("Evidence");

        group.MapPost("/", AddEvidence).WithName(nameof(AddEvidence)).Allow(Role.Reporter).AcceptIdempotencyKey()
            .WithSummary("Link a source to a claim")
            .WithDescription("Records what an existing source said about the claim, with its stance, quote and credibility. With an Idempotency-Key, a retry replays the first answer instead of linking twice.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/", ListEvidence).WithName(nameof(ListEvidence)).Allow(Role.Reader)
            .WithSummary("List a claim's evidence, newest first")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{evidenceId:guid}", GetEvidence).WithName(nameof(GetEvidence)).Allow(Role.Reader)
            .WithSummary("Read one evidence item")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{evidenceId:guid}", DeleteEvidence).WithName(nameof(DeleteEvidence)).Allow(Role.Editor)
            .WithSummary("Unlink a source from a claim")
            .WithDescription("Answers 409 when the item is the last one that a confirmed claim's verdict rests on (the last 'supports') or a false claim's (the last 'refutes'): move the status first.")
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
            // the claim, so that a status change cannot judge it on a stale evidence count.
            var state = await connection.QuerySingleAsync<(bool ClaimExists, bool SourceExists)>(new CommandDefinition(
                """
                WITH claim AS (UPDATE claims SET updated_at = clock_timestamp(), status_updated_at = clock_timestamp(), version = version + 1 WHERE id = @id RETURNING id)
                SELECT EXISTS (SELECT 1 FROM claim), EXISTS (SELECT 1 FROM sources WHERE id = @sourceId)
                """,
                new { id, sourceId = request.SourceId }, transaction, cancellationToken: ct));
            if (!state.ClaimExists)
            {
                return Problems.NotFound("claim", id);
            }

            if (!state.SourceExists)
            {
                return Problems.Invalid("sourceId", $"There is no source with id {request.SourceId}.");
            }

            var evidenceId = Guid.CreateVersion7();
            var actor = Caller.Name(http.User);
            await EvidenceStore.InsertAsync(connection, transaction, id, [(evidenceId, request)], actor, ct);
            var item = (await connection.QuerySingleAsync<EvidenceRow>(new CommandDefinition(
                $"SELECT {EvidenceStore.SelectColumns} FROM evidence e JOIN sources s ON s.id = e.source_id WHERE e.id = @evidenceId",
                new { evidenceId }, transaction, cancellationToken: ct))).ToItem();
            var location = $"/claims/{id}/evidence/{evidenceId}";
            await idempotency.CompleteAsync(connection, transaction, key, StatusCodes.Status201Created, location, item, ct);
            await events.AppendAsync(commit, actor, new NewEvent(EventType.EvidenceAdded, evidenceId, id, item), ct);

            await commit.RunAsync();
            return TypedResults.Created(location, item);
        }, ct);
    }

    public static async Task<Results<Ok<Page<EvidenceItem>>, ProblemHttpResult, ValidationProblem>> ListEvidence(
        Guid id, [AsParameters] PageRequest page, NpgsqlDataSource db, CursorProtector cursors, CancellationToken ct)
    {
        var scope = $"evidence:{id}";
        if (!cursors.TryDecode<TimeKey>(page.Cursor, scope, out var after))
        {
            return PageExtensions.BadCursor();
        }

        var filter = after is null ? "" : "AND (e.created_at, e.id) < (@At, @Id)";
        var rows = await db.ChildPageAsync<EvidenceRow>("claims", id,
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

    public static async Task<Results<Ok<EvidenceItem>, ProblemHttpResult>> GetEvidence(Guid id, Guid evidenceId, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<EvidenceRow>(new CommandDefinition(
            $"SELECT {EvidenceStore.SelectColumns} FROM evidence e JOIN sources s ON s.id = e.source_id WHERE e.id = @evidenceId AND e.claim_id = @id",
            new { id, evidenceId }, cancellationToken: ct));
        return row is null ? Problems.NotFound("evidence item", evidenceId) : TypedResults.Ok(row.ToItem());
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteEvidence(Guid id, Guid evidenceId, HttpContext http, NpgsqlDataSource db, EventLog events, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        // Lock first, count in a second statement of the same batch: a delete that waited for the
        // lock must count what the previous holder left, or two concurrent deletes could each
        // see the other's 'supports' item and remove the last two together.
        (string Status, string Stance, long SameStance) target;
        await using (var read = await connection.QueryMultipleAsync(new CommandDefinition(
            """
            SELECT 1 FROM claims WHERE id = @id FOR UPDATE;
            SELECT c.status, e.stance,
                   (SELECT count(*) FROM evidence x WHERE x.claim_id = c.id AND x.stance = e.stance)
            FROM claims c JOIN evidence e ON e.claim_id = c.id AND e.id = @evidenceId
            WHERE c.id = @id;
            """,
            new { id, evidenceId }, transaction, cancellationToken: ct)))
        {
            await read.ReadAsync<int>();
            target = await read.ReadSingleOrDefaultAsync<(string, string, long)>();
        }

        if (target == default)
        {
            return Problems.NotFound("evidence item", evidenceId);
        }

        if (target.SameStance == 1 && (target.Status, target.Stance) is ("confirmed", "supports") or ("false", "refutes"))
        {
            return ProblemTypes.VerdictRestsOnEvidence.Result(
                $"The claim is {target.Status} and this is its only '{target.Stance}' evidence. Change the claim's status first, or add other '{target.Stance}' evidence.");
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM evidence WHERE id = @evidenceId;
            UPDATE claims SET updated_at = clock_timestamp(), status_updated_at = clock_timestamp(), version = version + 1 WHERE id = @id;
            """,
            new { id, evidenceId }, transaction, cancellationToken: ct));
        await events.AppendAsync(commit, Caller.Name(http.User),
            new NewEvent(EventType.EvidenceRemoved, evidenceId, id, new EvidenceTombstone(evidenceId, id)), ct);
        await commit.RunAsync();
        return TypedResults.NoContent();
    }
}
