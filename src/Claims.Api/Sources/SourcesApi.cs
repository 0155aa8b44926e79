using Claims.Api.Claims;
using Claims.Api.Evidence;
using Claims.Api.Infrastructure;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Claims.Api.Sources;

public static class SourcesApi
{
    private const string Columns = "id, name, kind, description, url, reliability, created_at, updated_at, version";
    private const string Score = "((word_similarity(@Q, name) + similarity(@Q, name)) / 2)::real";

    public static RouteGroupBuilder MapSources(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/sources").WithTags("Sources");

        group.MapPost("/", CreateSource).WithName(nameof(CreateSource))
            .WithSummary("Log a source")
            .WithDescription("Adds a person, outlet, agency or document that claims can be linked to. Reliability defaults to F (cannot be judged).");
        group.MapGet("/", ListSources).WithName(nameof(ListSources))
            .WithSummary("Find sources")
            .WithDescription("Newest first; with q, best match first. Filters combine.");
        group.MapGet("/{id:guid}/claims", ListSourceClaims).WithName(nameof(ListSourceClaims))
            .WithSummary("List the claims a source is linked to, newest link first")
            .WithDescription("Each item carries the stance and credibility of that link, and the claim.")
            .ProducesProblem(StatusCodes.Status404NotFound);
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

    public static async Task<Results<Ok<Page<Source>>, ValidationProblem>> ListSources(
        [AsParameters] SourceQuery query, NpgsqlDataSource db, CursorProtector cursors, CancellationToken ct)
    {
        if (!cursors.TryUnprotect(query.Cursor, query.Scope, out var after))
        {
            return PageExtensions.BadCursor();
        }

        var q = string.IsNullOrWhiteSpace(query.Q) ? null : query.Q.Trim();
        var filters = new List<string>();
        if (query.Kind is not null)
        {
            filters.Add("kind = @Kind");
        }

        if (query.Reliability is not null)
        {
            filters.Add("reliability = @Reliability");
        }

        var parameters = new DynamicParameters(new { query.Kind, query.Reliability, Take = query.Size + 1, Q = q, Like = Patterns.Contains(q ?? "") });
        string sql;
        if (q is null)
        {
            if (after is { } position)
            {
                filters.Add("(created_at, id) < (@At, @Id)");
                parameters.AddDynamicParams(new { position.At, position.Id });
            }

            sql = $"SELECT {Columns}, 0::real AS score FROM sources {Where(filters)} ORDER BY created_at DESC, id DESC LIMIT @Take";
        }
        else
        {
            // A name that contains the text, or is close to it (trigram similarity). Ranked by how
            // well the text matches the best part of the name and the whole name, so that
            // 'suspil' puts Suspilne before a longer name that merely mentions it.
            filters.Add("(name ILIKE @Like OR name % @Q)");
            if (after is { } position)
            {
                filters.Add($"({Score}, id) < (@Score, @Id)");
                parameters.AddDynamicParams(new { Score = BitConverter.Int32BitsToSingle((int)position.Key), position.Id });
            }

            sql = $"SELECT {Columns}, {Score} AS score FROM sources {Where(filters)} ORDER BY score DESC, id DESC LIMIT @Take";
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var rows = (await connection.QueryAsync<RankedSourceRow>(new CommandDefinition(sql, parameters, cancellationToken: ct))).AsList();
        return TypedResults.Ok(rows.ToPage(query.Size, r => r.ToSource(),
            r => q is null ? Cursor.ForTime(r.CreatedAt, r.Id) : new Cursor(BitConverter.SingleToInt32Bits(r.Score), r.Id),
            cursors, query.Scope));
    }

    public static async Task<Results<Ok<Page<SourceClaim>>, ProblemHttpResult, ValidationProblem>> ListSourceClaims(
        Guid id, [AsParameters] PageRequest page, NpgsqlDataSource db, CursorProtector cursors, CancellationToken ct)
    {
        var scope = $"source-claims:{id}";
        if (!cursors.TryUnprotect(page.Cursor, scope, out var after))
        {
            return PageExtensions.BadCursor();
        }

        var filter = after is null ? "" : "AND (e.created_at, e.id) < (@At, @Id)";
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            $"""
            SELECT EXISTS (SELECT 1 FROM sources WHERE id = @sourceId);
            SELECT e.id AS evidence_id, e.stance, e.credibility, e.created_at AS linked_at,
                   {ClaimsApi.QualifiedColumns("c")}
            FROM evidence e JOIN claims c ON c.id = e.claim_id
            WHERE e.source_id = @sourceId {filter}
            ORDER BY e.created_at DESC, e.id DESC
            LIMIT @Take;
            """,
            new { sourceId = id, Take = page.Size + 1, after?.At, after?.Id }, cancellationToken: ct));
        if (!await results.ReadSingleAsync<bool>())
        {
            return Problems.NotFound("source", id);
        }

        var rows = results.Read<SourceLinkRow, ClaimRow, (SourceLinkRow Link, ClaimRow Claim)>((link, claim) => (link, claim), splitOn: "id").AsList();
        return TypedResults.Ok(rows.ToPage(page.Size,
            r => new SourceClaim(r.Link.EvidenceId, EnumNames<Stance>.Parse(r.Link.Stance), r.Link.Credibility, r.Link.LinkedAt, r.Claim.ToClaim()),
            r => Cursor.ForTime(r.Link.LinkedAt, r.Link.EvidenceId), cursors, scope));
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

    private static string Where(List<string> filters) => filters.Count == 0 ? "" : "WHERE " + string.Join(" AND ", filters);

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
