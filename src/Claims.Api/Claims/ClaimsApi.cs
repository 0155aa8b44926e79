using System.Data;
using Claims.Api.Auth;
using Claims.Api.Claims.Relations;
using Claims.Api.Data;
using Claims.Api.Errors;
using Claims.Api.Events;
using Claims.Api.Evidence;
using Claims.Api.Exports;
using Claims.Api.Http;
using Claims.Api.OpenApi;
using Claims.Api.Provenance;
using Claims.Api.Validation;
using Dapper;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Claims;

public static class ClaimsApi
{
    internal const string Columns =
        "id, statement, summary, language, tags, first_reported_on, status, status_note, created_at, updated_at, version, created_by, canonical_claim_id";

    /// <summary>The claim columns with a table alias, for joins.</summary>
    internal static string QualifiedColumns(string alias) =>
        string.Join(", ", Columns.Split(", ").Select(column => $"{alias}.{column}"));

    public static RouteGroupBuilder MapClaims(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/claims").WithTags("Claims");

        group.MapPost("/", CreateClaim).WithName(nameof(CreateClaim)).Allow(Role.Reporter).AcceptIdempotencyKey().ProducesPossibleDuplicates()
            .WithSummary("Log a claim, optionally with its evidence")
            .WithDescription("Stores the claim as unverified, records that first status in its history, and links the given evidence, all in one transaction. Every sourceId must name an existing source. "
                + $"With checkDuplicates: true, it first looks for near-duplicates (as GET /claims/similar does, at a score of at least Claims:DuplicateScore, 0.6 by default) and, if there are any, logs nothing and answers 409 possible-duplicates with up to {DuplicatesListed} of them under `duplicates`, best first; without it the claim is logged whatever is logged already. "
                + "With an Idempotency-Key, a retry replays the first answer instead of logging the claim twice. A 409 possible-duplicates uses up no key, and the key stands for the claim, not for checkDuplicates: after the refusal, the same key without the flag logs the claim, and a retry of either afterwards replays that 201.");
        group.MapGet("/", ListClaims).WithName(nameof(ListClaims)).Allow(Role.Reader)
            .Exports(pageToo: true)
            .WithSummary("Find claims")
            .WithDescription("Filters combine (status: any of them; tag: all of them). q searches statement and summary in the claim's own language (English word forms match: 'desertion' finds 'deserted'), and orders best match first unless sort says otherwise. Keyset pages: pass nextCursor back unchanged with the same filters.");
        group.MapGet("/similar", FindSimilarClaims).WithName(nameof(FindSimilarClaims)).Allow(Role.Reader)
            .WithSummary("Find near-duplicates of a proposed statement, best first")
            .WithDescription("Run before logging a claim: trigram similarity of the statements (PostgreSQL's similarity()), each result with its score between 0 and 1. The look-up is approximate, so that it stays fast at any size: it scores only the claims that share the most MinHash keys with the text, and its top 10 at minScore 0.5 hold at least 95% of the exact top 10 (measured by the benchmark; a claim at 0.5 is missed more often than one at 0.8). POST /claims with checkDuplicates: true makes the same look-up and logs only if it finds nothing.");
        group.MapGet("/{id:guid}", GetClaim).WithName(nameof(GetClaim)).Allow(Role.Reader).AnswerNotModified()
            .WithSummary("Read a claim with its evidence")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("/{id:guid}", ReplaceClaim).WithName(nameof(ReplaceClaim)).Allow(Role.Reporter).RequireIfMatch()
            .WithSummary("Replace a claim's editable fields")
            .WithDescription("Replaces statement, summary, language, tags and firstReportedOn. The status is changed through PUT /claims/{id}/status. Needs If-Match with the claim's ETag from your last read: 428 without it, 412 if the claim has changed since.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPatch("/{id:guid}", PatchClaim).WithName(nameof(PatchClaim)).Allow(Role.Reporter).RequireIfMatch()
            .AcceptsMergePatch<ClaimPatch>()
            .WithSummary("Change some of a claim's editable fields")
            .WithDescription("A JSON merge patch (RFC 7396) sent as application/merge-patch+json: a field with a value is set, null removes it (statement cannot be removed; language goes back to en), tags are replaced as a whole, and fields left out keep their values. Read-only and unknown members (id, status, version, evidence...) are refused by name. The result must pass the rules of PUT. Needs If-Match with the claim's ETag from your last read: 428 without it, 412 if the claim has changed since. A patch that changes nothing answers the claim as it is, with the same ETag.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id:guid}", DeleteClaim).WithName(nameof(DeleteClaim)).Allow(Role.Editor).RequireIfMatch()
            .WithSummary("Delete a claim with its evidence and history")
            .WithDescription("Needs If-Match with the claim's ETag.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return group;
    }

    /// <summary>How many near-duplicates a possible-duplicates problem lists, best first.</summary>
    public const int DuplicatesListed = 5;

    public static async Task<Results<Created<Claim>, ValidationProblem, ProblemHttpResult>> CreateClaim(
        CreateClaimRequest request, HttpContext http, NpgsqlDataSource db, Idempotency idempotency, EventLog events, IOptions<ClaimsOptions> options,
        CancellationToken ct)
    {
        // The key stands for the claim to log; the flag only says whether to look for duplicates
        // first. So after a 409 the same key without the flag logs it, and a retry that still
        // carries the flag replays that answer instead of being refused as another request.
        var key = idempotency.Read(http, request with { CheckDuplicates = null }, out var badKey);
        if (badKey is not null)
        {
            return badKey;
        }

        return await Transactions.RetryOnConflictAsync<Results<Created<Claim>, ValidationProblem, ProblemHttpResult>>(async ct =>
        {
            var id = Guid.CreateVersion7();
            // Items stored together share created_at, so their ids alone keep them in the order
            // given; UUIDv7s made within one millisecond are only ordered once sorted.
            var items = request.Evidence ?? [];
            var evidenceIds = items.Select(_ => Guid.CreateVersion7()).Order().ToArray();
            var evidence = items.Select((e, i) => (evidenceIds[i], e)).ToArray();
            var author = Caller.Name(http.User);

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
                return Created(http, replay.Location!, idempotency.Replayed<Claim>(http, replay));
            }

            var missing = await EvidenceStore.MissingSourcesAsync(
                connection, transaction, [.. evidence.SelectMany(e => (e.e.ViaSourceIds ?? []).Prepend(e.e.SourceId!.Value))], ct);
            if (missing.Count > 0)
            {
                return Problems.Invalid(
                    evidence.SelectMany((e, index) => (e.e.ViaSourceIds ?? []).Select((via, j) => (Field: $"evidence[{index}].viaSourceIds[{j}]", Id: via))
                            .Prepend((Field: $"evidence[{index}].sourceId", Id: e.e.SourceId!.Value)))
                        .Where(e => missing.Contains(e.Id))
                        .ToDictionary(e => e.Field, e => new[] { $"There is no source with id {e.Id}." }));
            }

            if (request.CheckDuplicates == true)
            {
                // After the key's guard, so that a retry of a claim logged with the flag replays it
                // instead of finding the claim its own duplicate. A refusal is not stored for the
                // key: it describes the claims of the moment, so the same request again looks again.
                var minScore = options.Value.DuplicateScore;
                var duplicates = await SimilarClaims.FindAsync(connection, transaction, request.Statement!, minScore, DuplicatesListed, options.Value, ct);
                if (duplicates.Count > 0)
                {
                    return TypedResults.Problem(PossibleDuplicates(duplicates, minScore));
                }
            }

            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO claims (id, statement, summary, language, tags, first_reported_on, created_by, similarity_keys)
                VALUES (@id, @Statement, @Summary, @Language, @Tags, @FirstReportedOn, @author, @SimilarityKeys);
                INSERT INTO claim_status_changes (id, claim_id, from_status, to_status, note, changed_by)
                VALUES (@historyId, @id, NULL, 'unverified', 'Logged.', @author);
                """,
                Parameters(id, request, options.Value.FileSimilarity, new { historyId = Guid.CreateVersion7(), author }), transaction, cancellationToken: ct));
            if (evidence.Length > 0)
            {
                await EvidenceStore.InsertAsync(connection, transaction, id, evidence, author, ct);
            }

            var claim = (await ReadWithEvidenceAsync(connection, transaction, id, ct))!;
            var location = $"/claims/{id}";
            await idempotency.CompleteAsync(connection, transaction, key, StatusCodes.Status201Created, location, claim, ct);
            await events.AppendAsync(commit, author,
                [new(EventType.ClaimCreated, id, id, claim), .. claim.Evidence!.Select(e => new NewEvent(EventType.EvidenceAdded, e.Id, id, e))], ct);

            await commit.RunAsync();
            return Created(http, location, claim);
        }, ct);
    }

    public static async Task<Results<Ok<Page<Claim>>, ValidationProblem, ExportResult>> ListClaims(
        [AsParameters] ClaimQuery query, HttpContext http, Reads reads, CursorProtector cursors, IOptions<SearchOptions> options, SearchPlans plans,
        CancellationToken ct)
    {
        if (ExportFormats.Negotiate(http.Request) is var format and not ExportFormat.Page)
        {
            return ExportResult.Refusal(query.Limit, query.Cursor, query.Sort) is { } refusal ? refusal : Exports.Exports.Claims(http, query, format);
        }

        http.Response.Headers.Append(Microsoft.Net.Http.Headers.HeaderNames.Vary, Microsoft.Net.Http.Headers.HeaderNames.Accept);
        var order = ClaimOrder.For(query.EffectiveSort);
        if (!order.TryReadCursor(cursors, query.Cursor, query.Scope, out var after))
        {
            return PageExtensions.BadCursor();
        }

        var knownRare = query.Text is not null && plans.IsKnownRare(query);
        var search = ClaimSearch.Build(query, order, after, options.Value, knownRare);
        await using var connection = await reads.OpenAsync(http, ct);
        var rows = await search.ReadAsync(connection, search.Sql, ct);
        if (search.IndexedSql is not null && !search.IsComplete(rows))
        {
            // Too few matches among the newest claims: read the word's index instead, and from the
            // first page on, the next time.
            if (after is null)
            {
                plans.RememberRare(query);
            }

            rows = await search.ReadAsync(connection, search.IndexedSql, ct);
        }

        return TypedResults.Ok(order.ToPage(rows, query.Size, cursors, query.Scope));
    }

    public static async Task<Ok<Page<SimilarClaim>>> FindSimilarClaims([AsParameters] SimilarQuery query, HttpContext http, Reads reads, IOptions<ClaimsOptions> options, CancellationToken ct)
    {
        await using var connection = await reads.OpenAsync(http, ct);
        var items = await SimilarClaims.FindAsync(connection, null, query.Text!, query.Threshold, query.Size, options.Value, ct);
        return TypedResults.Ok(new Page<SimilarClaim>(items, null));
    }

    /// <summary>The 409 of a claim refused as a near-duplicate: the duplicates found, best first, with the score they were held to.</summary>
    internal static Microsoft.AspNetCore.Mvc.ProblemDetails PossibleDuplicates(IReadOnlyList<SimilarClaim> duplicates, double minScore)
    {
        var best = duplicates[0];
        return ProblemTypes.PossibleDuplicates.Details(
            string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{(duplicates.Count == 1 ? "A logged claim is" : $"{duplicates.Count} logged claims are")} at least {minScore} similar to this statement, so nothing was stored. Add to one of them, or send the request without checkDuplicates to log it anyway. The closest, at {best.Score}, is {best.Claim.Id}: \"{best.Claim.Statement}\""),
            new Dictionary<string, object?> { ["minScore"] = minScore, ["duplicates"] = duplicates });
    }

    /// <summary>Declares the 409 possible-duplicates of POST /claims beside its other 409, with an example.</summary>
    private static RouteHandlerBuilder ProducesPossibleDuplicates(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(
            new ProducesResponseTypeMetadata(StatusCodes.Status409Conflict, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), [ProblemWriter.ContentType])
            {
                Description = $"With checkDuplicates: true, near-duplicates are logged already (problem possible-duplicates): nothing was stored, and `duplicates` lists up to {DuplicatesListed} of them, best first, each with its `score` and `claim`, as GET /claims/similar gives them; `minScore` is the score they were held to. "
                    + "Or a request with the same Idempotency-Key is still running (problem idempotency-key-in-flight).",
            },
            new AnswerExample(StatusCodes.Status409Conflict, ProblemTypes.PossibleDuplicates.Slug, "A near-duplicate is logged already", ClaimExamples.PossibleDuplicates()));

    public static async Task<Results<Ok<Claim>, ProblemHttpResult>> GetClaim(Guid id, HttpContext http, Reads reads, CancellationToken ct)
    {
        await using var connection = await reads.OpenAsync(http, ct);
        var claim = await ReadWithEvidenceAsync(connection, null, id, ct);
        return claim is null ? Problems.NotFound("claim", id) : Ok(http, claim);
    }

    public static async Task<Results<Ok<Claim>, ProblemHttpResult>> ReplaceClaim(
        Guid id, ClaimRequest request, HttpContext http, NpgsqlDataSource db, EventLog events, IOptions<ClaimsOptions> options, CancellationToken ct)
    {
        if (!IfMatch.TryRead(http.Request, "claim", out var ifMatch, out var refusal))
        {
            return refusal;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var (row, refused) = await WriteAsync(connection, id, request, ifMatch.Version, options.Value.FileSimilarity, events, Caller.Name(http.User), ct);
        return row is null ? refused! : Ok(http, row.ToClaim());
    }

    public static Task<Results<Ok<Claim>, ValidationProblem, ProblemHttpResult>> PatchClaim(
        Guid id, MergePatch<ClaimRequest, Claim> patch, HttpContext http, NpgsqlDataSource db, IValidator<ClaimRequest> validator, EventLog events,
        IOptions<ClaimsOptions> options, CancellationToken ct) =>
        patch.RunAsync(http, "claim", id, db, validator,
            connection => connection.QuerySingleOrDefaultAsync<ClaimRow>(new CommandDefinition(
                $"SELECT {Columns} FROM claims WHERE id = @id", new { id }, cancellationToken: ct)),
            ClaimRules.Stored,
            (connection, fields, version) => WriteAsync(connection, id, fields, version, options.Value.FileSimilarity, events, Caller.Name(http.User), ct),
            ct);

    // Properties, not a positional record: Dapper matches no constructor to an array column.
    private sealed class Deleted
    {
        public bool Found { get; init; }
        public Guid? Canonical { get; init; }
        public Guid[] Duplicates { get; init; } = [];
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteClaim(
        Guid id, HttpContext http, NpgsqlDataSource db, EventLog events, IOptions<ClaimsOptions> options, CancellationToken ct)
    {
        if (!IfMatch.TryRead(http.Request, "claim", out var ifMatch, out var refusal))
        {
            return refusal;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        // Evidence, history and relations go with it through ON DELETE CASCADE. Its duplicates
        // (read before the cascade, in the statement's snapshot) become canonicals of their own
        // chains, and its canonical loses its evidence: both recounted under the recounting lock,
        // taken first (Origins.RecountingLock). A duplicate whose evidence its canonical's verdict
        // rests on is not deleted, as that evidence could not be removed on its own.
        Guid? canonical;
        await using (var read = await connection.QueryMultipleAsync(new CommandDefinition(
            $"{Origins.RecountingLock} SELECT canonical_claim_id FROM claims WHERE id = @id",
            new { id }, transaction, cancellationToken: ct)))
        {
            await read.ReadAsync<object>();
            canonical = await read.ReadSingleOrDefaultAsync<Guid?>();
        }

        var before = canonical is { } judged ? await Duplicates.WeighAsync(connection, transaction, judged, ct) : default;
        var deleted = await connection.QuerySingleAsync<Deleted>(new CommandDefinition(
            """
            WITH gone AS (DELETE FROM claims WHERE id = @id AND version = @Version RETURNING canonical_claim_id)
            SELECT EXISTS (SELECT 1 FROM gone) AS found, (SELECT canonical_claim_id FROM gone) AS canonical,
                   ARRAY(SELECT r.claim_id FROM claim_relations r WHERE r.related_claim_id = @id AND r.kind = 'duplicate_of') AS duplicates
            """, new { id, ifMatch.Version }, transaction, cancellationToken: ct));
        if (deleted.Found)
        {
            if (deleted.Duplicates.Length > 0 || deleted.Canonical is not null)
            {
                await Duplicates.RepointAsync(connection, transaction, deleted.Duplicates, deleted.Canonical is { } former ? [former] : [], ct);
            }

            if (deleted.Canonical is { } weighed && weighed == canonical
                && await Duplicates.LosesGroundsAsync(connection, transaction, weighed, before, options.Value.IndependentOrigins, ct) is { } groundless)
            {
                // Returning without commit rolls the deletion back.
                return groundless;
            }

            // Only the claim's tombstone: its evidence went with it, which the tombstone implies.
            await events.AppendAsync(commit, Caller.Name(http.User), new NewEvent(EventType.ClaimDeleted, id, id, new Tombstone(id)), ct);
            await commit.RunAsync();
            return TypedResults.NoContent();
        }

        return await CurrentVersionAsync(connection, transaction, id, ct) is { } current
            ? Versions.PreconditionFailed("claim", Versions.ETag(current))
            : Problems.NotFound("claim", id);
    }

    /// <summary>
    /// Replaces the editable fields if the claim is still at <paramref name="version"/>: the row
    /// as written, or else the 412 (it has changed) or 404 (it is gone) to answer.
    /// </summary>
    private static async Task<(ClaimRow? Row, ProblemHttpResult? Refusal)> WriteAsync(
        NpgsqlConnection connection, Guid id, IClaimFields fields, int version, bool fileSimilarity, EventLog events, string? actor, CancellationToken ct)
    {
        // The update, then its event: only the COMMIT can leave the outcome unknown (504); a
        // failure before it changed nothing (503).
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        var row = await connection.QuerySingleOrDefaultAsync<ClaimRow>(new CommandDefinition(
            $"""
            UPDATE claims
            SET statement = @Statement, summary = @Summary, language = @Language, tags = @Tags,
                first_reported_on = @FirstReportedOn, similarity_keys = @SimilarityKeys,
                updated_at = clock_timestamp(), version = version + 1
            WHERE id = @id AND version = @Version
            RETURNING {Columns}
            """,
            Parameters(id, fields, fileSimilarity, new { Version = version }), transaction, cancellationToken: ct));
        if (row is not null)
        {
            await events.AppendAsync(commit, actor, new NewEvent(EventType.ClaimUpdated, id, id, row.ToClaim()), ct);
            await commit.RunAsync();
            return (row, null);
        }

        return (null, await CurrentVersionAsync(connection, transaction, id, ct) is { } current
            ? Versions.PreconditionFailed("claim", Versions.ETag(current))
            : Problems.NotFound("claim", id));
    }

    private static Task<int?> CurrentVersionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<int?>(new CommandDefinition("SELECT version FROM claims WHERE id = @id", new { id }, transaction, cancellationToken: ct));

    private static Created<Claim> Created(HttpContext http, string location, Claim claim) => Versions.Created(http, location, claim, claim.Version);

    private static Ok<Claim> Ok(HttpContext http, Claim claim) => Versions.Ok(http, claim, claim.Version);

    /// <summary>
    /// The claim and its evidence with their sources: two statements, one round trip, and whether
    /// it has duplicates, a probe of their small index (claims_canonical_idx). A second round trip
    /// only for the claims that need it: those with duplicates, whose evidence counts toward their
    /// origins, and those whose items relay others, for the chains' sources. A third statement in
    /// the first round trip for the duplicates' evidence, mostly empty, cost every read a tenth.
    /// </summary>
    internal static async Task<Claim?> ReadWithEvidenceAsync(IDbConnection connection, IDbTransaction? transaction, Guid id, CancellationToken ct)
    {
        ClaimRow? row;
        List<ClaimEvidenceRow> evidence;
        await using (var results = await connection.QueryMultipleAsync(new CommandDefinition(
            $"""
            SELECT {Columns}, EXISTS (SELECT 1 FROM claims d WHERE d.canonical_claim_id = @id) AS has_duplicates FROM claims WHERE id = @id;
            SELECT {EvidenceStore.ClaimColumns}
            FROM evidence e JOIN sources s ON s.id = e.source_id
            WHERE e.claim_id = @id
            ORDER BY e.created_at, e.id;
            """,
            new { id }, transaction, cancellationToken: ct)))
        {
            row = await results.ReadSingleOrDefaultAsync<ClaimRow>();
            evidence = [.. await results.ReadAsync<ClaimEvidenceRow>()];
        }

        if (row is null)
        {
            return null;
        }

        var own = evidence.Count;
        var chainSources = new Dictionary<Guid, ChainSource>();
        if (row.HasDuplicates)
        {
            await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
                $"""
                SELECT {EvidenceStore.ClaimColumns}
                FROM claims d JOIN evidence e ON e.claim_id = d.id JOIN sources s ON s.id = e.source_id
                WHERE d.canonical_claim_id = @id
                ORDER BY e.created_at, e.id;
                {EvidenceStore.ChainSourcesOf(Provenance.Origins.WithDuplicates("@id"))};
                """,
                new { id }, transaction, cancellationToken: ct));
            evidence.AddRange(await results.ReadAsync<ClaimEvidenceRow>());
            chainSources = (await results.ReadAsync<ChainSource>()).ToDictionary(s => s.Id);
        }
        else if (evidence.SelectMany(e => e.Chain).Distinct().ToArray() is { Length: > 0 } chained)
        {
            chainSources = (await connection.QueryAsync<ChainSource>(new CommandDefinition(
                EvidenceStore.ChainSourcesSql, new { ids = chained }, transaction, cancellationToken: ct))).ToDictionary(s => s.Id);
        }

        return row.ToClaim([.. evidence.Select(e => e.ToItem(chainSources))], [.. evidence.Select(e => (Guid?)e.OriginKey(chainSources))], own);
    }

    // Claims:FileSimilarity off: NULL keys, so the claim waits for a backfill.
    private static DynamicParameters Parameters(Guid id, IClaimFields request, bool fileSimilarity, object? extra = null)
    {
        var stored = ClaimRules.Stored(request);
        var parameters = new DynamicParameters(extra);
        parameters.Add("id", id);
        parameters.Add("Statement", stored.Statement);
        parameters.Add("Summary", stored.Summary);
        parameters.Add("Language", stored.Language);
        parameters.Add("Tags", stored.Tags);
        parameters.Add("FirstReportedOn", stored.FirstReportedOn);
        parameters.Add("SimilarityKeys", fileSimilarity ? SimilarityKeys.For(stored.Statement!) : null);
        return parameters;
    }
}
