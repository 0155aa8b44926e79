using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Claims.Api.Claims;
using Claims.Api.Events;
using Claims.Api.Sources;
using Dapper;
using FluentValidation;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Imports;

/// <summary>Where a running import stands, for a progress bar.</summary>
public sealed record ImportProgress(int Read, int SettledThrough, int Written, int Unchanged, int Rejected);

/// <summary>
/// Runs import jobs: a reader parses and checks lines as the body arrives and hands them over in
/// batches; a writer settles each batch in its own transaction. Between them a channel of two
/// batches: the reader runs ahead by that much and no more, so memory stays flat and a slow
/// database slows the upload instead of filling the server. The writer does not stop when the
/// client leaves: the lines it was handed are written and reported.
/// </summary>
public sealed class ImportRunner(
    NpgsqlDataSource db, IValidator<CreateClaimRequest> claims, IValidator<SourceRequest> sources, Events.EventLog events,
    IOptions<ImportsOptions> options, IOptions<ClaimsOptions> claimsOptions, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json,
    IHostApplicationLifetime lifetime, ILogger<ImportRunner> logger)
{
    public async Task<Guid> CreateJobAsync(ImportFormat format, bool dryRun, string? author, CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO imports (id, format, dry_run, created_by) VALUES (@id, @format, @dryRun, @author)",
            new { id, format = format == ImportFormat.Csv ? "csv" : "ndjson", dryRun, author }, cancellationToken: ct));
        return id;
    }

    /// <summary>
    /// Reads every line (from <paramref name="lines"/>, under <paramref name="readCt"/>) and hands
    /// them to the writer; returns once reading ended, with the writer's task, which ends when
    /// every batch handed over is settled and the job is marked done or failed.
    /// </summary>
    internal async Task<Task> RunAsync(Guid id, IAsyncEnumerable<ParsedLine> lines, bool dryRun, string? author, IProgress<ImportProgress>? progress, CancellationToken readCt)
    {
        var batches = Channel.CreateBounded<ImportBatch>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        // Never disposed: the writer cancels it when it fails, and the reader may still look at it
        // after the writer ended; it holds no timer or handle.
        var writerFailed = new CancellationTokenSource();
        var writer = new ImportWriter(id, dryRun, author, events);
        var stopped = new StrongBox<string?>();
        // Lines the writer rejects (a source or id that is not there): they count towards MaxRejected as the reader's do.
        var writerRejected = new StrongBox<int>();
        var writing = Task.Run(async () =>
        {
            using var beating = new CancellationTokenSource();
            var heartbeat = BeatAsync(id, beating.Token);
            await WriteAllAsync(id, writer, dryRun, batches.Reader, stopped, writerRejected, progress, writerFailed);
            await beating.CancelAsync();
            await heartbeat;
        }, CancellationToken.None);

        var pending = new List<ParsedLine>(options.Value.BatchLines);
        var read = 0;
        var rejected = 0;
        string? failure = null;
        var started = Stopwatch.GetTimestamp();
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(readCt, writerFailed.Token);
        try
        {
            await foreach (var line in lines.WithCancellation(reading.Token))
            {
                pending.Add(line);
                read++;
                if (line.Draft is null)
                {
                    rejected++;
                }

                if (rejected + Volatile.Read(ref writerRejected.Value) > options.Value.MaxRejected)
                {
                    failure = $"More than {options.Value.MaxRejected} lines were rejected, so the rest of the file was not read. Fix the lines reported and import the file again: the lines written stay unchanged.";
                    break;
                }

                // A batch goes when full, or after a second, so that a slow upload still shows progress.
                if (pending.Count >= options.Value.BatchLines || Stopwatch.GetElapsedTime(started).TotalSeconds >= 1)
                {
                    await batches.Writer.WriteAsync(new ImportBatch(pending, read, line.Line), reading.Token);
                    pending = new List<ParsedLine>(options.Value.BatchLines);
                    started = Stopwatch.GetTimestamp();
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or BadHttpRequestException or InvalidDataException or CsvHelper.CsvFormatException)
        {
            failure = writerFailed.IsCancellationRequested ? null
                : e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                    ? $"The body is larger than {options.Value.MaxBytes} bytes (Imports:MaxBytes); reading stopped there."
                    : e is CsvHelper.CsvFormatException csv
                    ? $"The CSV could not be read past its record {csv.RecordNumber} ({csv.Message}); the lines before it are settled as reported, nothing after them was written."
                    : $"The upload broke off after {read} lines ({e.Message}); the lines before it are settled as reported, nothing after them was written.";
        }
        catch (Exception e)
        {
            // A fault of ours, not of the file: the job still ends, as failed, with the lines
            // before it settled.
            logger.LogError(e, "Import {Id} stopped reading after line {Line}", id, read);
            failure = $"Reading stopped after {read} lines on an unexpected error; the lines before it are settled as reported, nothing after them was written.";
            pending.Clear();
        }

        try
        {
            if (pending.Count > 0 && !writerFailed.IsCancellationRequested)
            {
                // Whole lines that were read before the end: written as any others.
                await batches.Writer.WriteAsync(new ImportBatch(pending, read, pending[^1].Line), CancellationToken.None);
            }
        }
        finally
        {
            stopped.Value = failure;
            batches.Writer.TryComplete();
        }

        return writing;
    }

    private async Task WriteAllAsync(
        Guid id, ImportWriter writer, bool dryRun, ChannelReader<ImportBatch> batches, StrongBox<string?> stopped, StrongBox<int> rejectedHere,
        IProgress<ImportProgress>? progress, CancellationTokenSource failed)
    {
        var ct = lifetime.ApplicationStopping;
        string? failure = null;
        var queueing = false;
        var totals = new ImportProgress(0, 0, 0, 0, 0);
        try
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            // The connection's 4 s command and 5 s statement bounds are for requests; a batch of a
            // thousand claims on a busy server takes longer, and waits on nobody's answer.
            // A session setting: reset on every way out, since the pool does not reset connections.
            await connection.ExecuteAsync(new CommandDefinition("SET statement_timeout = 0", cancellationToken: ct));
            try
            {
                await foreach (var batch in batches.ReadAllAsync(CancellationToken.None))
                {
                    // A file of more than one batch: worth a change to the indexes (see PendingLists).
                    if (!queueing && !dryRun && batch.Lines.Count >= options.Value.BatchLines)
                    {
                        queueing = await PendingLists.OnAsync(connection, logger, ct);
                    }

                    var outcome = await writer.WriteAsync(connection, batch, ct);
                    Interlocked.Add(ref rejectedHere.Value, outcome.Rejected - batch.Lines.Count(l => l.Draft is null));
                    totals = new ImportProgress(batch.Read, batch.Through, totals.Written + outcome.Created, totals.Unchanged + outcome.Unchanged, totals.Rejected + outcome.Rejected);
                    progress?.Report(totals);
                }
            }
            finally
            {
                if (connection.State == System.Data.ConnectionState.Open)
                {
                    await connection.ExecuteAsync(new CommandDefinition("RESET statement_timeout; RESET lock_timeout", cancellationToken: CancellationToken.None));
                }
            }

            // Set by the reader before it completed the channel.
            failure = stopped.Value;
        }
        catch (Exception e)
        {
            failed.Cancel();
            failure = ct.IsCancellationRequested
                ? "The API stopped during the import."
                : $"Writing stopped after line {totals.SettledThrough}: {e.Message}";
            logger.LogError(e, "Import {Id} failed after line {Line}", id, totals.SettledThrough);
            // Batches still queued are dropped: nothing after the last settled line was written.
            while (batches.TryRead(out _))
            {
            }
        }

        // Before the job is done: the merge is part of the import's cost, and its end.
        if (queueing)
        {
            await PendingLists.OffAsync(db, id, logger);
        }

        try
        {
            await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE imports SET state = @state, failure = @failure, finished_at = now(), updated_at = now() WHERE id = @id",
                new { id, state = failure is null ? "done" : "failed", failure }, cancellationToken: CancellationToken.None));
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            logger.LogError(e, "Import {Id} could not be marked {State}", id, failure is null ? "done" : "failed");
        }
    }

    /// <summary>How often a running job says it is alive; GET /imports/{id} calls one silent for <see cref="StaleAfter"/> failed.</summary>
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(10);

    /// <summary>A running job silent this long was running in a process that stopped.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(60);

    // Batches touch the job as they settle; a slow upload or a long batch may leave minutes between them.
    private async Task BeatAsync(Guid id, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Heartbeat);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    await using var connection = await db.OpenConnectionAsync(ct);
                    await connection.ExecuteAsync(new CommandDefinition(
                        "UPDATE imports SET updated_at = now() WHERE id = @id AND state = 'running'", new { id }, cancellationToken: ct));
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException)
                {
                    // The next beat tries again; the writer's own failure, if any, is reported by the writer.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The writer ended.
        }
    }

    /// <summary>The parsed lines of a body in <paramref name="format"/>.</summary>
    internal IAsyncEnumerable<ParsedLine> Lines(Stream body, ImportFormat format, CsvHelper.CsvReader? csv, Dictionary<string, int>? columns, string? author, CancellationToken ct)
    {
        var checks = new ImportChecks(claims, sources, claimsOptions.Value.FileSimilarity, author);
        return format == ImportFormat.Csv
            ? CsvRows.ReadAsync(csv!, columns!, checks, ct)
            : NdjsonLines.ReadAsync(body, checks, json.Value.SerializerOptions, ct);
    }
}
