using Claims.Api.Auth;
using Claims.Api.Errors;
using Claims.Api.Exports;
using Claims.Api.Http;
using Dapper;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Npgsql;

namespace Claims.Api.Imports;

public static class ImportsApi
{
    public static IServiceCollection AddImports(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ImportsOptions>().Bind(configuration.GetSection("Imports"))
            .Validate(o => o.MaxBytes >= 1024 * 1024, "Imports:MaxBytes must be at least 1 MiB.")
            .Validate(o => o.BatchLines is >= 1 and <= 10_000, "Imports:BatchLines must be between 1 and 10000.")
            .Validate(o => o.MaxRejected >= 1, "Imports:MaxRejected must be at least 1.")
            .ValidateOnStart();
        services.AddSingleton<ImportRunner>();
        return services;
    }

    public static RouteGroupBuilder MapImports(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/imports").WithTags("Imports");
        group.MapPost("/", StartImport).WithName(nameof(StartImport)).Allow(Role.Editor)
            .WithMetadata(new ImportBodyMarker(app.ServiceProvider.GetRequiredService<IOptions<ImportsOptions>>().Value.MaxBytes))
            .WithSummary("Import claims in bulk from NDJSON or CSV")
            .WithDescription(
                "The body is read and checked line by line as it arrives and written in batches, each in one transaction with its part of the report; the answer comes when the body is read, 202 with Location: /imports/{id}, where GET follows the job to its end. "
                + "application/x-ndjson: one claim per line, as the NDJSON export writes it (ids, statuses, evidence and history are kept, so an export imports into an empty database as it was). "
                + "text/csv: a header row, then one row per claim and source link: statement, summary, language, tags (separated by ';'), firstReportedOn, sourceName, sourceKind, reliability, stance, quote, url, credibility, and optionally externalId, status, statusNote, sourceId, sourceExternalId, publishedAt, note; consecutive rows of the same claim make one claim. "
                + "Sources are matched by id, else by externalId, else by name (any case) and kind, and created when none matches. A line whose claim is here already (by id, else by externalId; a claim with neither gets a key from its language and statement) is left unchanged, so importing a file twice changes nothing. "
                + "Every line is checked with the rules of POST /claims, POST /sources and the status rules; a line that breaks one is rejected and reported with its fields, the others are written. dryRun=true checks and reports without writing.")
            .Produces<ImportJob>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        group.MapGet("/{id:guid}", GetImport).WithName(nameof(GetImport)).Allow(Role.Reader)
            .WithSummary("Follow an import job: its state, counts and report")
            .WithDescription($"The report (errors, unchangedLines) comes a page at a time: the lines settled so far after reportAfter, at most {ReportPage} entries, whole lines only; reportNext, when not null, is the reportAfter of the next page. It is complete when state is done. When state is failed, every line up to settledThrough is as reported and none after it was written.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    public static async Task<Results<Accepted<ImportJob>, ValidationProblem, ProblemHttpResult>> StartImport(
        HttpContext http, ImportRunner runner, NpgsqlDataSource db, IOptions<ImportsOptions> options, [FromQuery] bool? dryRun = null)
    {
        var mediaType = MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var parsed) ? parsed.MediaType.Value : null;
        ImportFormat? format = mediaType?.ToLowerInvariant() switch
        {
            ExportFormats.Ndjson => ImportFormat.Ndjson,
            ExportFormats.Csv => ImportFormat.Csv,
            _ => null,
        };
        if (format is null)
        {
            return ProblemTypes.UnsupportedMediaType.Result(
                $"Send the file as {ExportFormats.Ndjson} (one claim per line, as the NDJSON export writes them) or {ExportFormats.Csv} (a header row, then a row per claim and source link); the Content-Type was '{http.Request.ContentType}'.");
        }

        if (http.Request.ContentLength > options.Value.MaxBytes)
        {
            return ProblemTypes.BodyTooLarge.Result($"An import takes at most {options.Value.MaxBytes} bytes (Imports:MaxBytes); this body has {http.Request.ContentLength}. Split the file.");
        }

        // A file is far larger than any JSON request, and takes as long as its upload.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = options.Value.MaxBytes;
        }

        http.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
        var ct = http.RequestAborted;
        var author = Caller.Name(http.User);
        CsvHelper.CsvReader? csv = null;
        Dictionary<string, int>? columns = null;
        try
        {
            if (format == ImportFormat.Csv)
            {
                // The header first: a file whose columns cannot be read makes no job.
                csv = CsvRows.Open(http.Request.Body);
                (columns, var problem) = await CsvRows.ReadHeaderAsync(csv, ct);
                if (problem is not null)
                {
                    return Problems.Invalid("body", problem);
                }
            }

            var id = await runner.CreateJobAsync(format.Value, dryRun == true, author, ct);
            var lines = runner.Lines(http.Request.Body, format.Value, csv, columns, author, ct);
            var writing = await runner.RunAsync(id, lines, dryRun == true, author, null, ct);
            // The job goes on without this request; a short wait lets a small file's answer say done.
            await Task.WhenAny(writing, Task.Delay(TimeSpan.FromMilliseconds(200), CancellationToken.None));
            var job = await ReadAsync(db, id, CancellationToken.None);
            return TypedResults.Accepted($"/imports/{id}", job!);
        }
        finally
        {
            if (csv is not null)
        {
            await csv.DisposeAsync();
        }
        }
    }

    /// <summary>The most report entries one answer holds: a file of a million lines imported twice reports a million unchanged lines.</summary>
    public const int ReportPage = 1000;

    public static async Task<Results<Ok<ImportJob>, ValidationProblem, ProblemHttpResult>> GetImport(
        Guid id,
        [System.ComponentModel.Description("The report continues after this line (reportNext of the page before); 0 or absent: from the start.")] int? reportAfter,
        NpgsqlDataSource db, CancellationToken ct)
    {
        if (reportAfter is < 0)
        {
            return Problems.Invalid("reportAfter", "Must be 0 or more: the line after which the report continues.");
        }

        return await ReadAsync(db, id, ct, reportAfter ?? 0) is { } job ? TypedResults.Ok(job) : Problems.NotFound("import", id);
    }

    private sealed record JobRow(
        Guid Id, string State, string Format, bool DryRun, string? CreatedBy, DateTime StartedAt, DateTime UpdatedAt, DateTime? FinishedAt,
        int LinesRead, int SettledThrough, int Created, int Unchanged, int Rejected, int SourcesCreated, string? Failure, bool Stale);

    private sealed record LineRow(int Line, string Outcome, string? Field, string? Message, Guid? ClaimId);

    /// <summary>The job and its report, in one round trip.</summary>
    public static async Task<ImportJob?> ReadAsync(NpgsqlDataSource db, Guid id, CancellationToken ct, int reportAfter = 0)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            """
            SELECT id, state, format, dry_run, created_by, started_at, updated_at, finished_at, lines_read, settled_through, created, unchanged, rejected, sources_created, failure,
                   state = 'running' AND updated_at < now() - make_interval(secs => @stale) AS stale
            FROM imports WHERE id = @id;
            SELECT line, outcome, field, message, claim_id FROM import_lines WHERE import_id = @id AND line > @reportAfter
            ORDER BY line, outcome, field NULLS FIRST LIMIT @rows;
            """, new { id, stale = ImportRunner.StaleAfter.TotalSeconds, reportAfter, rows = ReportPage + 1 }, cancellationToken: ct));
        var job = await results.ReadSingleOrDefaultAsync<JobRow>();
        if (job is null)
        {
            return null;
        }

        var lines = (await results.ReadAsync<LineRow>()).Select(l => new ImportLineReport(l.Line, l.Outcome, l.Field, l.Message, l.ClaimId)).ToList();
        int? reportNext = null;
        if (lines.Count > ReportPage)
        {
            // A page ends on a whole line, so that the next one starts after it.
            var cut = lines[ReportPage].Line;
            var whole = lines.Where(l => l.Line < cut).ToList();
            lines = whole.Count > 0 ? whole : lines;
            reportNext = lines[^1].Line;
        }

        var seconds = ((job.FinishedAt ?? job.UpdatedAt) - job.StartedAt).TotalSeconds;
        var settled = job.Created + job.Unchanged + job.Rejected;
        // A job that stopped saying it is alive ran in a process that stopped: it will not go on.
        var state = job.Stale ? ImportState.Failed : Enum.Parse<ImportState>(job.State, ignoreCase: true);
        var failure = job.Stale
            ? $"The import stopped without finishing: the API process running it has not been heard from since {job.UpdatedAt:u}. Every line up to {job.SettledThrough} is as reported and none after it was written; import the file again to add the rest (the lines written are left unchanged)."
            : job.Failure;
        return new ImportJob(
            job.Id, state, job.Format, job.DryRun, job.CreatedBy, job.StartedAt, job.FinishedAt,
            job.LinesRead, job.SettledThrough, job.Created, job.Unchanged, job.Rejected, job.SourcesCreated,
            seconds > 0 ? Math.Round(settled / seconds, 1) : 0, failure,
            [.. lines.Where(l => l.Outcome == "rejected")], [.. lines.Where(l => l.Outcome == "unchanged")], reportNext);
    }
}
