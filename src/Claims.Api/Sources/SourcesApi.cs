using Claims.Api.Auth;
using Claims.Api.Claims;
using Claims.Api.Data;
using Claims.Api.Errors;
using Claims.Api.Events;
using Claims.Api.Evidence;
using Claims.Api.Exports;
using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Api.OpenApi;
using Claims.Api.Provenance;
using Claims.Api.Validation;
using Dapper;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Claims.Api.Sources;

public static class SourcesApi
{
    private const string Columns = "id, name, kind, description, url, reliability, created_at, updated_at, version, created_by";
    private const string Score = "((word_similarity(@Q, name) + similarity(@Q, name)) / 2)::real";

    public static RouteGroupBuilder MapSources(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/sources").WithTags("Sources");

        group.MapPost("/", CreateSource).WithName(nameof(CreateSource)).Allow(Role.Reporter).AcceptIdempotencyKey()
            .WithSummary("Log a source")
            .WithDescription("Adds a person, outlet, agency or document that claims can be linked to. Reliability defaults to F (cannot be judged). With an Idempotency-Key, a retry replays the first answer instead of logging the source twice.");
        group.MapGet("/", ListSources).WithName(nameof(ListSources)).Allow(Role.Reader)
            .Exports(pageToo: true)
            .WithSummary("Find sources")
            .WithDescription("Newest first; with q, best match first. Filters combine.");
        group.MapGet("/{id:guid}/claims", ListSourceClaims).WithName(nameof(ListSourceClaims)).Allow(Role.Reader)
            .WithSummary("List the claims a source is linked to, newest link first")
            .WithDescription("Each item carries the stance and credibility of that link, and the claim.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{id:guid}", GetSource).WithName(nameof(GetSource)).Allow(Role.Reader).AnswerNotModified()
            .WithSummary("Read a source")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{id:guid}", ReplaceSource).WithName(nameof(ReplaceSource)).Allow(Role.Reporter).RequireIfMatch()
            .WithSummary("Replace a source's editable fields")
            .WithDescription("Needs If-Match with the source's ETag from your last read: 428 without it, 412 if the source has changed since.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPatch("/{id:guid}", PatchSource).WithName(nameof(PatchSource)).Allow(Role.Reporter).RequireIfMatch()
            .AcceptsMergePatch<SourcePatch>()
            .WithSummary("Change some of a source's editable fields")
            .WithDescription("A JSON merge patch (RFC 7396) sent as application/merge-patch+json: a field with a value is set, null removes it (name and kind cannot be removed; reliability goes back to F), and fields left out keep their values. Read-only and unknown members (id, version, createdAt...) are refused by name. The result must pass the rules of PUT. Needs If-Match with the source's ETag from your last read: 428 without it, 412 if the source has changed since. A patch that changes nothing answers the source as it is, with the same ETag.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id:guid}", DeleteSource).WithName(nameof(DeleteSource)).Allow(Role.Editor).RequireIfMatch()
            .WithSummary("Delete a source that no evidence cites")
            .WithDescription("Answers 409 while evidence still refers to the source: remove that evidence first. Needs If-Match with the source's ETag.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        return group;
    }

    public static async Task<Results<Created<Source>, ProblemHttpResult>> CreateSource(
        SourceRequest request, HttpContext http, NpgsqlDataSource db, Idempotency idempotency, EventLog events, CancellationToken ct)
    {
        var key = idempotency.Read(http, request, out var badKey);
        if (badKey is not null)
        {
            return badKey;
        }

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
            return Created(http, replay.Location!, idempotency.Replayed<Source>(http, replay));
        }

        var actor = Caller.Name(http.User);
        var row = await connection.QuerySingleAsync<SourceRow>(new CommandDefinition(
            $"""
            INSERT INTO sources (id, name, kind, description, url, reliability, created_by)
            VALUES (@Id, @Name, @Kind, @Description, @Url, @Reliability, @CreatedBy)
            RETURNING {Columns}
            """,
            Parameters(Guid.CreateVersion7(), request, actor), transaction, cancellationToken: ct));
        var source = row.ToSource();
        var location = $"/sources/{source.Id}";
        await idempotency.CompleteAsync(connection, transaction, key, StatusCodes.Status201Created, location, source, ct);
        await events.AppendAsync(commit, actor, new NewEvent(EventType.SourceCreated, source.Id, null, source), ct);

        await commit.RunAsync();
        return Created(http, location, source);
    }

    public static async Task<Results<Ok<Page<Source>>, ValidationProblem, ExportResult>> ListSources(
        [AsParameters] SourceQuery query, HttpContext http, Reads reads, CursorProtector cursors, CancellationToken ct)
    {
        if (ExportFormats.Negotiate(http.Request) is var format and not ExportFormat.Page)
        {
            return ExportResult.Refusal(query.Limit, query.Cursor) is { } refusal ? refusal : Exports.Exports.Sources(http, query, format, Columns);
        }

        http.Response.Headers.Append(Microsoft.Net.Http.Headers.HeaderNames.Vary, Microsoft.Net.Http.Headers.HeaderNames.Accept);
        // Ranked by score with q, newest first without: the scope holds q, so each cursor decodes to its own order's key.
        var q = VisibleText.OrNull(query.Q);
        TimeKey? afterTime = null;
        RankKey? afterScore = null;
        if (!(q is null ? cursors.TryDecode(query.Cursor, query.Scope, out afterTime) : cursors.TryDecode(query.Cursor, query.Scope, out afterScore)))
        {
            return PageExtensions.BadCursor();
        }

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
            if (afterTime is { } position)
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
            if (afterScore is { } position)
            {
                filters.Add($"({Score}, id) < (@Score, @Id)");
                parameters.AddDynamicParams(new { Score = position.Rank, position.Id });
            }

            sql = $"SELECT {Columns}, {Score} AS score FROM sources {Where(filters)} ORDER BY score DESC, id DESC LIMIT @Take";
        }

        await using var connection = await reads.OpenAsync(http, ct);
        var rows = (await connection.QueryAsync<RankedSourceRow>(new CommandDefinition(sql, parameters, cancellationToken: ct))).AsList();
        return TypedResults.Ok(q is null
            ? rows.ToPage(query.Size, r => r.ToSource(), r => new TimeKey(r.CreatedAt, r.Id), cursors, query.Scope)
            : rows.ToPage(query.Size, r => r.ToSource(), r => new RankKey(r.Score, r.Id), cursors, query.Scope));
    }

    public static async Task<Results<Ok<Page<SourceClaim>>, ProblemHttpResult, ValidationProblem>> ListSourceClaims(
        Guid id, [AsParameters] PageRequest page, HttpContext http, Reads reads, CursorProtector cursors, CancellationToken ct)
    {
        var scope = $"source-claims:{id}";
        if (!cursors.TryDecode<TimeKey>(page.Cursor, scope, out var after))
        {
            return PageExtensions.BadCursor();
        }

        var filter = after is null ? "" : "AND (e.created_at, e.id) < (@At, @Id)";
        await using var connection = await reads.OpenAsync(http, ct);
        var rows = await connection.ChildPageAsync<SourceClaimRow>("sources", id,
            $"""
            SELECT e.id AS evidence_id, e.stance, e.credibility, e.created_at AS linked_at,
                   {ClaimsApi.QualifiedColumns("c")}
            FROM evidence e JOIN claims c ON c.id = e.claim_id
            WHERE e.source_id = @ParentId {filter}
            ORDER BY e.created_at DESC, e.id DESC
            LIMIT @Take
            """,
            after, page.Size, ct);
        if (rows is null)
        {
            return Problems.NotFound("source", id);
        }

        return TypedResults.Ok(rows.ToPage(page.Size, r => r.ToSourceClaim(), r => new TimeKey(r.LinkedAt, r.EvidenceId), cursors, scope));
    }

    public static async Task<Results<Ok<Source>, ProblemHttpResult>> GetSource(Guid id, HttpContext http, Reads reads, CancellationToken ct)
    {
        await using var connection = await reads.OpenAsync(http, ct);
        var row = await connection.QuerySingleOrDefaultAsync<SourceRow>(new CommandDefinition(
            $"SELECT {Columns} FROM sources WHERE id = @id", new { id }, cancellationToken: ct));
        return row is null ? Problems.NotFound("source", id) : Ok(http, row.ToSource());
    }

    public static async Task<Results<Ok<Source>, ProblemHttpResult>> ReplaceSource(
        Guid id, SourceRequest request, HttpContext http, NpgsqlDataSource db, EventLog events, CancellationToken ct)
    {
        if (!IfMatch.TryRead(http.Request, "source", out var ifMatch, out var refusal))
        {
            return refusal;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var (row, refused) = await WriteAsync(connection, id, request, ifMatch.Version, events, Caller.Name(http.User), ct);
        return row is null ? refused! : Ok(http, row.ToSource());
    }

    public static Task<Results<Ok<Source>, ValidationProblem, ProblemHttpResult>> PatchSource(
        Guid id, MergePatch<SourceRequest, Source> patch, HttpContext http, NpgsqlDataSource db, IValidator<SourceRequest> validator, EventLog events, CancellationToken ct) =>
        patch.RunAsync(http, "source", id, db, validator,
            connection => connection.QuerySingleOrDefaultAsync<SourceRow>(new CommandDefinition(
                $"SELECT {Columns} FROM sources WHERE id = @id", new { id }, cancellationToken: ct)),
            Stored,
            (connection, fields, version) => WriteAsync(connection, id, fields, version, events, Caller.Name(http.User), ct),
            ct);

    // Evidence that names the source @id in its chain, through the partial index on chains.
    private const string ChainsCiting = "SELECT 1 FROM evidence WHERE via_source_ids <> '{}' AND via_source_ids @> ARRAY[@id]::uuid[]";

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteSource(Guid id, HttpContext http, NpgsqlDataSource db, EventLog events, CancellationToken ct)
    {
        if (!IfMatch.TryRead(http.Request, "source", out var ifMatch, out var refusal))
        {
            return refusal;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        // After the lock, one statement (and its event), then the COMMIT. The delete decides on the row as it is when it runs;
        // the version and count beside it only explain a refusal, and the foreign key still
        // guards against evidence that a concurrent transaction adds. Chains have no foreign key:
        // evidence that names the source in its chain counts as citing it, and is looked for again
        // once the row is deleted (see below). The sources one with it lose their link through it,
        // so their groups are recomputed.
        // The regrouping's lock before the source's row: an evidence write holding the counting lock
        // may be waiting for that row (its foreign key), and the regrouping below for the lock.
        await connection.ExecuteAsync(new CommandDefinition(SourceGroups.Lock, transaction: transaction, cancellationToken: ct));
        var outcome = await connection.QuerySingleAsync<(int? Version, long Citations, bool Deleted, Guid[] Neighbours)>(new CommandDefinition(
            $"""
            WITH removed AS (
                DELETE FROM sources
                WHERE id = @id AND version = @Version
                  AND NOT EXISTS (SELECT 1 FROM evidence WHERE source_id = @id)
                  AND NOT EXISTS ({ChainsCiting})
                RETURNING id)
            SELECT (SELECT version FROM sources WHERE id = @id),
                   (SELECT count(*) FROM evidence WHERE source_id = @id) + (SELECT count(*) FROM ({ChainsCiting}) chains),
                   EXISTS (SELECT 1 FROM removed),
                   ARRAY(SELECT CASE WHEN r.source_id = @id THEN r.related_source_id ELSE r.source_id END
                         FROM source_relations r
                         WHERE (r.source_id = @id OR r.related_source_id = @id) AND r.kind IN {SourceGroups.JoiningKinds})
            """,
            new { id, ifMatch.Version }, transaction, cancellationToken: ct));

        if (outcome.Deleted)
        {
            // A chain naming the source, added by a transaction that held it (FOR KEY SHARE) while
            // the delete waited, was not in the delete's snapshot; this statement's sees it.
            var chains = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                $"SELECT count(*) FROM ({ChainsCiting}) chains", new { id }, transaction, cancellationToken: ct));
            if (chains > 0)
            {
                // Not committed: disposing the commit rolls the delete back.
                return ProblemTypes.SourceStillCited.Result(
                    $"{chains} evidence item(s) still name source {id} in their chains. Remove them from their claims first.");
            }

            await SourceGroups.RegroupAsync(connection, transaction, outcome.Neighbours, ct);
            await events.AppendAsync(commit, Caller.Name(http.User), new NewEvent(EventType.SourceDeleted, id, null, new Tombstone(id)), ct);
            await commit.RunAsync();
            return TypedResults.NoContent();
        }

        if (outcome.Version is not { } version)
        {
            return Problems.NotFound("source", id);
        }

        if (!ifMatch.Matches(Versions.ETag(version)))
        {
            return Versions.PreconditionFailed("source", Versions.ETag(version));
        }

        return ProblemTypes.SourceStillCited.Result(
            $"{outcome.Citations} evidence item(s) still refer to source {id}, as the quoted source or in their chains. Remove them from their claims first.");
    }

    /// <summary>
    /// Replaces the editable fields if the source is still at <paramref name="version"/>: the row
    /// as written, or else the 412 (it has changed) or 404 (it is gone) to answer.
    /// </summary>
    private static async Task<(SourceRow? Row, ProblemHttpResult? Refusal)> WriteAsync(
        NpgsqlConnection connection, Guid id, SourceRequest fields, int version, EventLog events, string? actor, CancellationToken ct)
    {
        var parameters = new DynamicParameters(Parameters(id, fields, createdBy: null));
        parameters.AddDynamicParams(new { Version = version });
        // The update, then its event: only the COMMIT can leave the outcome unknown (504); a
        // failure before it changed nothing (503).
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        var row = await connection.QuerySingleOrDefaultAsync<SourceRow>(new CommandDefinition(
            $"""
            UPDATE sources
            SET name = @Name, kind = @Kind, description = @Description, url = @Url, reliability = @Reliability,
                updated_at = clock_timestamp(), version = version + 1
            WHERE id = @Id AND version = @Version
            RETURNING {Columns}
            """,
            parameters, transaction, cancellationToken: ct));
        if (row is not null)
        {
            await events.AppendAsync(commit, actor, new NewEvent(EventType.SourceUpdated, id, null, row.ToSource()), ct);
            await commit.RunAsync();
            return (row, null);
        }

        var current = await connection.QuerySingleOrDefaultAsync<int?>(new CommandDefinition(
            "SELECT version FROM sources WHERE id = @id", new { id }, transaction, cancellationToken: ct));
        return (null, current is null ? Problems.NotFound("source", id) : Versions.PreconditionFailed("source", Versions.ETag(current.Value)));
    }

    /// <summary>The editable fields as the database keeps them: a reliability not given is F.</summary>
    private static SourceRequest Stored(SourceRequest fields) => fields with { Reliability = fields.Reliability ?? Reliability.F };

    private static Created<Source> Created(HttpContext http, string location, Source source) => Versions.Created(http, location, source, source.Version);

    private static Ok<Source> Ok(HttpContext http, Source source) => Versions.Ok(http, source, source.Version);

    private static string Where(List<string> filters) => filters.Count == 0 ? "" : "WHERE " + string.Join(" AND ", filters);

    private static object Parameters(Guid id, SourceRequest request, string? createdBy) => new
    {
        Id = id,
        CreatedBy = createdBy,
        request.Name,
        Kind = request.Kind!.Value.ToName(),
        request.Description,
        request.Url,
        Reliability = Stored(request).Reliability!.Value.ToName(),
    };
}
