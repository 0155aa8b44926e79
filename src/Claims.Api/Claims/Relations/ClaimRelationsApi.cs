using Claims.Api.Auth;
using Claims.Api.Data;
using Claims.Api.Errors;
using Claims.Api.Events;
using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Api.Provenance;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Claims.Relations;

/// <summary>
/// Typed relations between claims: duplicate_of and refines (the claim in the path is the
/// duplicate, the narrower one), contradicts and related (no direction). A claim's relations are
/// listed from either side.
/// </summary>
public static class ClaimRelationsApi
{
    // The relation with both claims' summaries; r, s (the claim) and t (the related claim) are the aliases.
    private const string Columns =
        """
        r.id, r.kind, r.created_at, r.created_by,
        s.id AS claim_id, s.statement AS claim_statement, s.language AS claim_language, s.status AS claim_status,
        t.id AS related_id, t.statement AS related_statement, t.language AS related_language, t.status AS related_status
        """;

    private const string Joined = "claim_relations r JOIN claims s ON s.id = r.claim_id JOIN claims t ON t.id = r.related_claim_id";

    public static RouteGroupBuilder MapClaimRelations(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/claims/{id:guid}/relations").WithTags("Claims");

        group.MapPost("/", AddClaimRelation).WithName(nameof(AddClaimRelation)).Allow(Role.Reporter)
            .WithSummary("Relate a claim to another")
            .WithDescription("duplicate_of records that the claim in the path is the same claim as the other, in any language: the other (or, when it is itself a duplicate, the end of its chain) becomes its canonical, whose status the duplicate's status look-up answers and toward whose independent origins the duplicate's evidence counts; lists then leave the duplicate out. A claim is a duplicate of one claim at most, and a chain that would come back to the claim is refused (409). contradicts and related are recorded once for both claims; refines says the claim in the path is the narrower one. Answers 409 with the relation's id when it is recorded already, so a retry changes nothing.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/", ListClaimRelations).WithName(nameof(ListClaimRelations)).Allow(Role.Reader)
            .WithSummary("List a claim's relations, newest first")
            .WithDescription("Relations recorded from this claim and to it: claim and relatedClaim say which way each goes (a canonical finds its duplicates here).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{relationId:guid}", DeleteClaimRelation).WithName(nameof(DeleteClaimRelation)).Allow(Role.Editor)
            .WithSummary("Remove a relation between claims")
            .WithDescription("From either of its two claims. Removing a duplicate_of makes the duplicate a claim of its own again; it is refused (409 verdict-rests-on-evidence) when the canonical's verdict rests on the duplicate's evidence.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private sealed record Added(bool ClaimExists, bool RelatedExists, Guid? Inserted, Guid? RelatedCanonical, Guid? Existing, Guid? CurrentCanonical);

    public static async Task<Results<Created<ClaimRelation>, ProblemHttpResult, ValidationProblem>> AddClaimRelation(
        Guid id, ClaimRelationRequest request, HttpContext http, NpgsqlDataSource db, EventLog events, CancellationToken ct)
    {
        var related = request.RelatedClaimId!.Value;
        if (related == id)
        {
            return Problems.Invalid("relatedClaimId", "Must be another claim: a claim is not related to itself.");
        }

        var kind = request.Kind!.Value;
        var duplicate = kind == ClaimRelationKind.DuplicateOf;
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        var actor = Caller.Name(http.User);
        var relationId = Guid.CreateVersion7();
        // Both claims are held until commit, so that neither can be deleted under the new
        // relation. A duplicate_of takes the recounting lock first: it queues the writes that
        // could close a cycle, so the check against the other claim's canonical holds at commit.
        Added added;
        await using (var read = await connection.QueryMultipleAsync(new CommandDefinition(
            $"""
            {(duplicate ? Origins.RecountingLock : "")}
            WITH one AS (SELECT id FROM claims WHERE id = @id FOR KEY SHARE),
                 other AS (SELECT id, coalesce(canonical_claim_id, id) AS canonical FROM claims WHERE id = @related FOR KEY SHARE),
                 inserted AS (
                     INSERT INTO claim_relations (id, claim_id, related_claim_id, kind, created_by)
                     SELECT @relationId, one.id, other.id, @kind, @actor FROM one, other
                     WHERE @kind <> 'duplicate_of' OR other.canonical <> one.id
                     ON CONFLICT DO NOTHING
                     RETURNING id)
            SELECT EXISTS (SELECT 1 FROM one) AS claim_exists, EXISTS (SELECT 1 FROM other) AS related_exists,
                   (SELECT id FROM inserted) AS inserted, (SELECT canonical FROM other) AS related_canonical,
                   (SELECT r.id FROM claim_relations r
                    WHERE r.kind = @kind AND ((r.claim_id = @id AND r.related_claim_id = @related)
                                              OR (@kind IN ('contradicts', 'related') AND r.claim_id = @related AND r.related_claim_id = @id))) AS existing,
                   (SELECT r.related_claim_id FROM claim_relations r WHERE r.claim_id = @id AND r.kind = 'duplicate_of') AS current_canonical
            """,
            new { id, related, relationId, kind = kind.ToName(), actor }, transaction, cancellationToken: ct)))
        {
            if (duplicate)
            {
                await read.ReadAsync<object>();
            }

            added = await read.ReadSingleAsync<Added>();
        }

        if (!added.ClaimExists)
        {
            return Problems.NotFound("claim", id);
        }

        if (!added.RelatedExists)
        {
            return Problems.Invalid("relatedClaimId", $"There is no claim with id {related}.");
        }

        if (added.Inserted is null)
        {
            return Refusal(id, related, added);
        }

        var relation = (await connection.QuerySingleAsync<ClaimRelationRow>(new CommandDefinition(
            $"SELECT {Columns} FROM {Joined} WHERE r.id = @relationId", new { relationId }, transaction, cancellationToken: ct))).ToRelation();
        if (duplicate)
        {
            await Duplicates.RepointAsync(connection, transaction, [id], [], ct);
        }

        await events.AppendAsync(commit, actor, new NewEvent(EventType.ClaimRelationAdded, relation.Id, id, relation), ct);
        await commit.RunAsync();
        return TypedResults.Created($"/claims/{id}/relations/{relation.Id}", relation);
    }

    private static ProblemHttpResult Refusal(Guid id, Guid related, Added added)
    {
        if (added.Existing is { } existing)
        {
            return ProblemTypes.StateConflict.Result(
                $"This relation is recorded already, as /claims/{id}/relations/{existing}: nothing was changed.",
                new Dictionary<string, object?> { ["relationId"] = existing });
        }

        if (added.CurrentCanonical is { } canonical)
        {
            return ProblemTypes.StateConflict.Result(
                $"The claim is recorded as a duplicate of {canonical} already, and a claim is a duplicate of one claim at most: remove that relation first (GET /claims/{id}/relations lists it). Nothing was changed.",
                new Dictionary<string, object?> { ["duplicateOf"] = canonical });
        }

        if (added.RelatedCanonical == id)
        {
            return ProblemTypes.DuplicateCycle.Result(
                $"Claim {related} is recorded as a duplicate of this claim (its duplicate_of chain ends here): making this claim its duplicate would close a cycle. Nothing was changed.",
                new Dictionary<string, object?> { ["relatedClaimId"] = related });
        }

        // The unique indexes refused a relation recorded by a request that committed meanwhile.
        return ProblemTypes.StateConflict.Result("A concurrent request recorded a relation between these claims: read the claim's relations again. Nothing was changed.");
    }

    public static async Task<Results<Ok<Page<ClaimRelation>>, ProblemHttpResult, ValidationProblem>> ListClaimRelations(
        Guid id, [AsParameters] PageRequest page, HttpContext http, Reads reads, CursorProtector cursors, CancellationToken ct)
    {
        var scope = $"claim-relations:{id}";
        if (!cursors.TryDecode<TimeKey>(page.Cursor, scope, out var after))
        {
            return PageExtensions.BadCursor();
        }

        var filter = after is null ? "" : "AND (r.created_at, r.id) < (@At, @Id)";
        await using var connection = await reads.OpenAsync(http, ct);
        var rows = await connection.ChildPageAsync<ClaimRelationRow>("claims", id,
            PageExtensions.EitherSidePage(Columns, Joined, "claim_id", "related_claim_id", filter),
            after, page.Size, ct);
        if (rows is null)
        {
            return Problems.NotFound("claim", id);
        }

        return TypedResults.Ok(rows.ToPage(page.Size, r => r.ToRelation(), r => new TimeKey(r.CreatedAt, r.Id), cursors, scope));
    }

    private sealed record Removed(Guid Id, string Kind, Guid ClaimId, Guid RelatedClaimId, Guid? FormerCanonical);

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteClaimRelation(
        Guid id, Guid relationId, HttpContext http, NpgsqlDataSource db, EventLog events, IOptions<ClaimsOptions> options, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        // The kind is known only once the row is read, so every removal queues behind the
        // recounting lock; they are rare. The canonical's row is locked before its evidence is
        // weighed, so that its status cannot move meanwhile.
        Removed? removed;
        await using (var read = await connection.QueryMultipleAsync(new CommandDefinition(
            $"""
            {Origins.RecountingLock}
            SELECT r.id, r.kind, r.claim_id, r.related_claim_id, c.canonical_claim_id AS former_canonical
            FROM claim_relations r JOIN claims c ON c.id = r.claim_id
            WHERE r.id = @relationId AND @id IN (r.claim_id, r.related_claim_id)
            FOR UPDATE OF r;
            """,
            new { id, relationId }, transaction, cancellationToken: ct)))
        {
            await read.ReadAsync<object>();
            removed = await read.ReadSingleOrDefaultAsync<Removed>();
        }

        if (removed is null)
        {
            return Problems.NotFound("claim relation", relationId);
        }

        var duplicate = removed.Kind == ClaimRelationKind.DuplicateOf.ToName() && removed.FormerCanonical is not null;
        var before = duplicate ? await Duplicates.WeighAsync(connection, transaction, removed.FormerCanonical!.Value, ct) : default;
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM claim_relations WHERE id = @relationId", new { relationId }, transaction, cancellationToken: ct));
        if (duplicate)
        {
            var canonical = removed.FormerCanonical!.Value;
            await Duplicates.RepointAsync(connection, transaction, [removed.ClaimId], [canonical], ct);
            if (await Duplicates.LosesGroundsAsync(connection, transaction, canonical, before, options.Value.IndependentOrigins, ct) is { } refusal)
            {
                // Returning without commit rolls the removal back.
                return refusal;
            }
        }

        await events.AppendAsync(commit, Caller.Name(http.User),
            new NewEvent(EventType.ClaimRelationRemoved, removed.Id, id, new ClaimRelationTombstone(removed.Id, removed.ClaimId, removed.RelatedClaimId)), ct);
        await commit.RunAsync();
        return TypedResults.NoContent();
    }
}
