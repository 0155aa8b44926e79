using Claims.Api.Infrastructure;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Claims.Api.Sources;

public static class SourcesApi
{
    private const string Columns = "id, name, kind, description, url, reliability, created_at, updated_at, version";

    public static RouteGroupBuilder MapSources(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/sources").WithTags("Sources");

        group.MapPost("/", CreateSource).WithName(nameof(CreateSource))
            .WithSummary("Log a source")
            .WithDescription("Adds a person, outlet, agency or document that claims can be linked to. Reliability defaults to F (cannot be judged).");
        group.MapGet("/", ListSources).WithName(nameof(ListSources))
            .WithSummary("List sources, newest first");
        group.MapGet("/{id:guid}", GetSource).WithName(nameof(GetSource))
            .WithSummary("Read a source")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{id:guid}", ReplaceSource).WithName(nameof(ReplaceSource))
            .WithSummary("Replace a source's editable fields")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id:guid}", DeleteSource).WithName(nameof(DeleteSource))
            .WithSummary("Delete a source that no evidence cites")
            .WithDescription("Answers 409 while evidence still refers to the source: remove that evidence first.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        return group;
    }

    public static async Task<Created<Source>> CreateSource(SourceRequest request, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleAsync<SourceRow>(new CommandDefinition(
            $"""
            INSERT INTO sources (id, name, kind, description, url, reliability)
            VALUES (@Id, @Name, @Kind, @Description, @Url, @Reliability)
            RETURNING {Columns}
            """,
            Parameters(Guid.CreateVersion7(), request), cancellationToken: ct));
        var source = row.ToSource();
        return TypedResults.Created($"/sources/{source.Id}", source);
    }

    public static async Task<Ok<Page<Source>>> ListSources([AsParameters] PageRequest page, NpgsqlDataSource db, CancellationToken ct)
    {
        var after = page.After;
        var sql = after is null
            ? $"SELECT {Columns} FROM sources ORDER BY created_at DESC, id DESC LIMIT @Take"
            : $"SELECT {Columns} FROM sources WHERE (created_at, id) < (@At, @Id) ORDER BY created_at DESC, id DESC LIMIT @Take";
        await using var connection = await db.OpenConnectionAsync(ct);
        var rows = (await connection.QueryAsync<SourceRow>(new CommandDefinition(
            sql, new { Take = page.Size + 1, after?.At, after?.Id }, cancellationToken: ct))).AsList();
        return TypedResults.Ok(rows.ToPage(page.Size, r => r.ToSource(), r => new Cursor(r.CreatedAt, r.Id)));
    }

    public static async Task<Results<Ok<Source>, ProblemHttpResult>> GetSource(Guid id, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<SourceRow>(new CommandDefinition(
            $"SELECT {Columns} FROM sources WHERE id = @id", new { id }, cancellationToken: ct));
        return row is null ? Problems.NotFound("source", id) : TypedResults.Ok(row.ToSource());
    }

    public static async Task<Results<Ok<Source>, ProblemHttpResult>> ReplaceSource(Guid id, SourceRequest request, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<SourceRow>(new CommandDefinition(
            $"""
            UPDATE sources
            SET name = @Name, kind = @Kind, description = @Description, url = @Url, reliability = @Reliability,
                updated_at = now(), version = version + 1
            WHERE id = @Id
            RETURNING {Columns}
            """,
            Parameters(id, request), cancellationToken: ct));
        return row is null ? Problems.NotFound("source", id) : TypedResults.Ok(row.ToSource());
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteSource(Guid id, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        // One statement: the count and the delete see the same snapshot, and the foreign key
        // still guards against evidence added by a concurrent transaction.
        var outcome = await connection.QuerySingleAsync<(bool Exists, long Citations, bool Deleted)>(new CommandDefinition(
            """
            WITH target AS (SELECT id FROM sources WHERE id = @id),
                 citations AS (SELECT count(*) AS n FROM evidence WHERE source_id = @id),
                 removed AS (
                     DELETE FROM sources WHERE id = @id AND NOT EXISTS (SELECT 1 FROM evidence WHERE source_id = @id)
                     RETURNING id)
            SELECT EXISTS (SELECT 1 FROM target), (SELECT n FROM citations), EXISTS (SELECT 1 FROM removed)
            """,
            new { id }, cancellationToken: ct));

        if (outcome.Deleted)
        {
            return TypedResults.NoContent();
        }

        return outcome.Exists
            ? Problems.Conflict("The source is still cited.",
                $"{outcome.Citations} evidence item(s) still refer to source {id}. Remove them from their claims first.")
            : Problems.NotFound("source", id);
    }

    private static object Parameters(Guid id, SourceRequest request) => new
    {
        Id = id,
        request.Name,
        Kind = request.Kind!.Value.ToName(),
        request.Description,
        request.Url,
        Reliability = (request.Reliability ?? Reliability.F).ToName(),
    };
}
