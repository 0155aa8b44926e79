using Claims.Api.Auth;
using Claims.Api.Data;
using Claims.Api.Errors;
using Claims.Api.Events;
using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Api.Provenance;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Claims.Api.Sources.Relations;

/// <summary>
/// Typed relations between sources: affiliated_with (no direction), cites and derived_from (the
/// source in the path relays the related one). A source's relations are listed from either side.
/// </summary>
public static class SourceRelationsApi
{
    // The relation with both sources' summaries; r, s (source) and t (related) are the aliases.
    private const string Columns =
        """
        r.id, r.kind, r.created_at, r.created_by,
        s.id AS source_id, s.name AS source_name, s.kind AS source_kind, s.reliability AS source_reliability,
        t.id AS related_id, t.name AS related_name, t.kind AS related_kind, t.reliability AS related_reliability
        """;

    private const string Joined = "source_relations r JOIN sources s ON s.id = r.source_id JOIN sources t ON t.id = r.related_source_id";

    public static RouteGroupBuilder MapSourceRelations(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/sources/{id:guid}/relations").WithTags("Sources");

        group.MapPost("/", AddRelation).WithName(nameof(AddRelation)).Allow(Role.Reporter)
            .WithSummary("Relate a source to another")
            .WithDescription("Records that the source is affiliated_with the other (same government, owner or organisation; recorded once for both), or cites / is derived_from it (relays it). Answers 409 with the relation's id when it is recorded already, so a retry changes nothing.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/", ListRelations).WithName(nameof(ListRelations)).Allow(Role.Reader)
            .WithSummary("List a source's relations, newest first")
            .WithDescription("Relations recorded from this source and to it: source and relatedSource say which way each goes.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{relationId:guid}", DeleteRelation).WithName(nameof(DeleteRelation)).Allow(Role.Editor)
            .WithSummary("Remove a relation between sources")
            .WithDescription("From either of its two sources.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private sealed record Added(bool SourceExists, bool RelatedExists, Guid? Inserted, Guid? Existing);

    public static async Task<Results<Created<SourceRelation>, ProblemHttpResult, ValidationProblem>> AddRelation(
        Guid id, SourceRelationRequest request, HttpContext http, NpgsqlDataSource db, EventLog events, CancellationToken ct)
    {
        var related = request.RelatedSourceId!.Value;
        if (related == id)
        {
            return Problems.Invalid("relatedSourceId", "Must be another source: a source is not related to itself.");
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        var actor = Caller.Name(http.User);
        var relationId = Guid.CreateVersion7();
        // Both sources are held until commit, so that neither can be deleted under the new relation.
        var added = await connection.QuerySingleAsync<Added>(new CommandDefinition(
            """
            WITH one AS (SELECT id FROM sources WHERE id = @id FOR KEY SHARE),
                 other AS (SELECT id FROM sources WHERE id = @related FOR KEY SHARE),
                 inserted AS (
                     INSERT INTO source_relations (id, source_id, related_source_id, kind, created_by)
                     SELECT @relationId, one.id, other.id, @kind, @actor FROM one, other
                     ON CONFLICT DO NOTHING
                     RETURNING id)
            SELECT EXISTS (SELECT 1 FROM one) AS source_exists, EXISTS (SELECT 1 FROM other) AS related_exists,
                   (SELECT id FROM inserted) AS inserted,
                   (SELECT r.id FROM source_relations r
                    WHERE r.kind = @kind AND ((r.source_id = @id AND r.related_source_id = @related)
                                              OR (@kind = 'affiliated_with' AND r.source_id = @related AND r.related_source_id = @id))) AS existing
            """,
            new { id, related, relationId, kind = request.Kind!.Value.ToName(), actor }, transaction, cancellationToken: ct));
        if (!added.SourceExists)
        {
            return Problems.NotFound("source", id);
        }

        if (!added.RelatedExists)
        {
            return Problems.Invalid("relatedSourceId", $"There is no source with id {related}.");
        }

        if (added.Inserted is null)
        {
            return ProblemTypes.StateConflict.Result(
                $"This relation is recorded already, as /sources/{id}/relations/{added.Existing}: nothing was changed.",
                new Dictionary<string, object?> { ["relationId"] = added.Existing });
        }

        var relation = (await connection.QuerySingleAsync<SourceRelationRow>(new CommandDefinition(
            $"""
            SELECT {Columns} FROM {Joined} WHERE r.id = @relationId
            """,
            new { relationId }, transaction, cancellationToken: ct))).ToRelation();
        await SourceGroups.RegroupAsync(connection, transaction, [id, related], ct);
        await events.AppendAsync(commit, actor, new NewEvent(EventType.SourceRelationAdded, relation.Id, null, relation), ct);
        await commit.RunAsync();
        return TypedResults.Created($"/sources/{id}/relations/{relation.Id}", relation);
    }

    public static async Task<Results<Ok<Page<SourceRelation>>, ProblemHttpResult, ValidationProblem>> ListRelations(
        Guid id, [AsParameters] PageRequest page, HttpContext http, Reads reads, CursorProtector cursors, CancellationToken ct)
    {
        var scope = $"source-relations:{id}";
        if (!cursors.TryDecode<TimeKey>(page.Cursor, scope, out var after))
        {
            return PageExtensions.BadCursor();
        }

        var filter = after is null ? "" : "AND (r.created_at, r.id) < (@At, @Id)";
        await using var connection = await reads.OpenAsync(http, ct);
        var rows = await connection.ChildPageAsync<SourceRelationRow>("sources", id,
            PageExtensions.EitherSidePage(Columns, Joined, "source_id", "related_source_id", filter),
            after, page.Size, ct);
        if (rows is null)
        {
            return Problems.NotFound("source", id);
        }

        return TypedResults.Ok(rows.ToPage(page.Size, r => r.ToRelation(), r => new TimeKey(r.CreatedAt, r.Id), cursors, scope));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteRelation(
        Guid id, Guid relationId, HttpContext http, NpgsqlDataSource db, EventLog events, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        var removed = await connection.QuerySingleOrDefaultAsync<SourceRelationTombstone>(new CommandDefinition(
            """
            DELETE FROM source_relations WHERE id = @relationId AND (source_id = @id OR related_source_id = @id)
            RETURNING id, source_id, related_source_id
            """,
            new { id, relationId }, transaction, cancellationToken: ct));
        if (removed is null)
        {
            return Problems.NotFound("source relation", relationId);
        }

        await SourceGroups.RegroupAsync(connection, transaction, [removed.SourceId, removed.RelatedSourceId], ct);
        await events.AppendAsync(commit, Caller.Name(http.User), new NewEvent(EventType.SourceRelationRemoved, removed.Id, null, removed), ct);
        await commit.RunAsync();
        return TypedResults.NoContent();
    }
}
