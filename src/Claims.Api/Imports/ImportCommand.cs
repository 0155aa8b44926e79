using System.Diagnostics;
using System.Globalization;
using Claims.Api.Data;
using Npgsql;

namespace Claims.Api.Imports;

/// <summary>
/// The <c>import FILE [--dry-run]</c> verb: the job POST /imports runs, on the configured database
/// straight from the file, with a progress bar when the error output is a terminal. A .csv file is
/// read as CSV, anything else as NDJSON. Exit code 0: done, nothing rejected; 3: done with
/// rejected lines (listed); 1: the job failed; 2: the command was wrong.
/// </summary>
public static class ImportCommand
{
    private const int BarWidth = 30;

    /// <summary>Rejected lines printed at the end; the job's report (GET /imports/{id}) has them all.</summary>
    private const int ErrorsShown = 20;

    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        var path = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal));
        if (path is null || !File.Exists(path))
        {
            Console.Error.WriteLine(path is null ? "Usage: import FILE [--dry-run]   (FILE: .ndjson as the NDJSON export writes it, or .csv)" : $"No such file: {path}");
            return 2;
        }

        var dryRun = args.Contains("--dry-run");
        var format = Path.GetExtension(path).Equals(".csv", StringComparison.OrdinalIgnoreCase) ? ImportFormat.Csv : ImportFormat.Ndjson;
        Database.Migrate(app.Configuration.GetConnectionString(Database.ConnectionStringName)!, app.Logger);
        var runner = app.Services.GetRequiredService<ImportRunner>();
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        const string author = "import (command line)";

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // The lines read so far are written and reported; then the job ends as failed.
            e.Cancel = true;
            stop.Cancel();
        };

        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        CsvHelper.CsvReader? csv = null;
        Dictionary<string, int>? columns = null;
        if (format == ImportFormat.Csv)
        {
            csv = CsvRows.Open(file);
            (columns, var problem) = await CsvRows.ReadHeaderAsync(csv, stop.Token);
            if (problem is not null)
            {
                Console.Error.WriteLine(problem);
                return 2;
            }
        }

        var id = await runner.CreateJobAsync(format, dryRun, author, CancellationToken.None);
        Console.Error.WriteLine($"Import {id} of {path} ({format.ToString().ToUpperInvariant()}{(dryRun ? ", dry run: nothing is written" : "")})");
        var bar = new ProgressBar(file, Console.IsErrorRedirected);
        var writing = await runner.RunAsync(id, runner.Lines(file, format, csv, columns, author, stop.Token), dryRun, author, bar, stop.Token);
        await writing;
        if (csv is not null)
        {
            await csv.DisposeAsync();
        }
        bar.Finish();

        var job = (await ImportsApi.ReadAsync(db, id, CancellationToken.None))!;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{job.State.ToString().ToLowerInvariant()}: {job.Read:N0} read, {job.Written:N0} {(dryRun ? "would be written" : "written")}, {job.Unchanged:N0} unchanged, {job.Rejected:N0} rejected, {job.SourcesCreated:N0} sources {(dryRun ? "would be created" : "created")}; {job.LinesPerSecond:N0} lines/s"));
        foreach (var error in job.Errors.Take(ErrorsShown))
        {
            Console.WriteLine($"  line {error.Line}{(error.Field is null ? "" : $", {error.Field}")}: {error.Message}");
        }

        if (job.Errors.Count > ErrorsShown || job.ReportNext is not null)
        {
            Console.WriteLine($"  ... more: GET /imports/{id}");
        }

        if (job.Failure is not null)
        {
            Console.WriteLine(job.Failure);
        }

        return job.State == ImportState.Failed ? 1 : job.Rejected > 0 ? 3 : 0;
    }

    /// <summary>How far through the file the reader is, redrawn on one line of a terminal at most every 100 ms; a line per 10% otherwise.</summary>
    private sealed class ProgressBar(FileStream file, bool redirected) : IProgress<ImportProgress>
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _drawnAt = -1000;
        private int _lastTenth = -1;
        private ImportProgress _last = new(0, 0, 0, 0, 0);

        public void Report(ImportProgress value)
        {
            _last = value;
            var share = file.Length == 0 ? 1.0 : Math.Min(1.0, (double)file.Position / file.Length);
            if (redirected)
            {
                var tenth = (int)(share * 10);
                if (tenth != _lastTenth)
                {
                    _lastTenth = tenth;
                    Console.Error.WriteLine(Line(share));
                }

                return;
            }

            if (_clock.ElapsedMilliseconds - _drawnAt < 100)
            {
                return;
            }

            _drawnAt = _clock.ElapsedMilliseconds;
            Console.Error.Write("\r" + Line(share));
        }

        public void Finish()
        {
            if (!redirected)
            {
                Console.Error.WriteLine("\r" + Line(1.0));
            }
        }

        private string Line(double share)
        {
            var filled = (int)(share * BarWidth);
            var rate = _last.SettledThrough / Math.Max(0.001, _clock.Elapsed.TotalSeconds);
            return string.Create(CultureInfo.InvariantCulture,
                $"[{new string('#', filled)}{new string('.', BarWidth - filled)}] {share,4:P0}  {_last.Read:N0} read  {_last.Written:N0} written  {_last.Unchanged:N0} unchanged  {_last.Rejected:N0} rejected  {rate:N0} lines/s ");
        }
    }
}
