using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Claims.Api.Http;
using Claims.Api.Imports;
using Npgsql;

namespace Claims.Benchmarks;

/// <summary>
/// Issue 15's bulk import against generate in the same run: N claims generated into a fresh
/// database, exported as NDJSON through the API, and that file posted to POST /imports of an API on
/// a second, empty database, timed from the POST to the job's done. Below the target, the import is
/// run again without similarity filing and without events, with the API's and the server's CPU.
/// </summary>
public static partial class BenchmarkRun
{
    private const double ImportTarget = 0.5;

    /// <summary>One import of the whole file: the job's counts, the wall time, and the CPU each process spent on it.</summary>
    private sealed record ImportMeasure(
        string Name, int Written, int Rejected, long Claims, long Evidence, double Seconds, double PeakRssMb,
        double ApiCpuSeconds, double? ServerCpuSeconds, double ClientCpuSeconds, ImportState State, string? Failure)
    {
        public double ClaimsPerSecond => Written / Seconds;
    }

    /// <summary>The <c>import</c> verb: two databases beside the one named, made for the run and dropped after it.</summary>
    public static async Task<int> ImportAsync(string connectionString, int claims, bool writeReadme, TextWriter output)
    {
        var named = new NpgsqlConnectionStringBuilder(connectionString).Database ?? "claims";
        var source = OnDatabase(connectionString, named + "_import_src");
        var destination = OnDatabase(connectionString, named + "_import_dst");
        var work = Directory.CreateTempSubdirectory("claims-import-").FullName;
        var loadBefore = LoadAverage();
        try
        {
            await RecreateDatabaseAsync(connectionString, source);
            output.WriteLine($"Generating {claims:N0} claims into {Name(source)} ...");
            var generated = DataGenerator.Run(source, claims, output);
            var evidence = await CountAsync(source, "evidence");

            output.WriteLine($"Publishing the API to {work} ...");
            await PublishApiAsync(work);
            var file = Path.Combine(work, "claims.ndjson");
            var lines = await ExportToFileAsync(work, source, file);
            if (lines != claims)
            {
                throw new InvalidOperationException($"The NDJSON export of {Name(source)} gave {lines:N0} lines for {claims:N0} claims.");
            }

            var megabytes = new FileInfo(file).Length / 1048576.0;
            output.WriteLine($"Exported {lines:N0} claims with {evidence:N0} evidence items: {megabytes:F0} MB of NDJSON. Importing into {Name(destination)} ...");
            var measures = new List<ImportMeasure> { await ImportFileAsync(work, connectionString, destination, file, "as configured", [], output) };
            var ratio = measures[0].ClaimsPerSecond / generated.LoadClaimsPerSecond;
            if (ratio < ImportTarget)
            {
                // Where the time goes: the same import without the work each setting turns off.
                output.WriteLine("Below the target: importing again without filing similarity keys, without events, and without both ...");
                measures.Add(await ImportFileAsync(work, connectionString, destination, file, "Claims:FileSimilarity=false", [("Claims__FileSimilarity", "false")], output));
                measures.Add(await ImportFileAsync(work, connectionString, destination, file, "Events:Write=false", [("Events__Write", "false")], output));
                measures.Add(await ImportFileAsync(work, connectionString, destination, file, "both off",
                    [("Claims__FileSimilarity", "false"), ("Events__Write", "false")], output));
            }

            var failed = measures.Any(m => m.State != ImportState.Done || m.Claims != claims || m.Evidence != evidence || m.Rejected > 0);
            var text = ImportReport(claims, evidence, megabytes, generated, measures, loadBefore, await DescribeServerAsync(destination));
            output.WriteLine(text);
            if (writeReadme)
            {
                WriteReadme(Path.Combine(RepositoryRoot(), "README.md"), "imports", text);
                output.WriteLine("README.md's import figures updated.");
            }

            return failed || ratio < ImportTarget ? 1 : 0;
        }
        finally
        {
            await DropDatabaseAsync(connectionString, destination);
            await DropDatabaseAsync(connectionString, source);
            Directory.Delete(work, recursive: true);
        }
    }

    private static string ImportReport(long claims, long evidence, double megabytes, DataGenerator.Figures generated, List<ImportMeasure> measures, string loadBefore, string server)
    {
        var text = new StringBuilder();
        var import = measures[0];
        var ratio = import.ClaimsPerSecond / generated.LoadClaimsPerSecond;
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Import (`import --claims {claims}`, {DateTime.UtcNow:yyyy-MM-dd}): {Environment.ProcessorCount} cores shared with other work, {CpuModel()}, load average {loadBefore} before the run and {LoadAverage()} after it; {server}; {claims:N0} claims with {evidence:N0} evidence items generated, exported as NDJSON ({megabytes:F0} MB) and posted to POST /imports of an API on an empty database over loopback, timed from the POST to the job's done; CPU from /proc over the same span (the server's: the postmaster and its backends, those that ended included)."));
        text.AppendLine();
        text.AppendLine("| claims | evidence | generate claims/s | import claims/s | ratio (target ≥ 0.5) | API peak RSS MB |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| {import.Written:N0} | {import.Evidence:N0} | {generated.LoadClaimsPerSecond:N0} | {import.ClaimsPerSecond:N0} | {ratio:F2}: {(ratio >= ImportTarget ? "met" : "**not met**")} | {import.PeakRssMb:F0} |");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"generate's rate is its load's (keys and indexes dropped, as it prints it); end to end, with their rebuild, it made {generated.TotalClaimsPerSecond:N0} claims/s, of which the import made {import.ClaimsPerSecond / generated.TotalClaimsPerSecond:F2}.");
        if (measures.Any(m => m.State != ImportState.Done || m.Claims != claims || m.Evidence != evidence || m.Rejected > 0))
        {
            text.AppendLine();
            text.AppendLine("**Not every import went through**: " + string.Join("; ", measures.Select(m =>
                $"{m.Name}: job {m.State.ToString().ToLowerInvariant()}, {m.Claims:N0} claims, {m.Evidence:N0} evidence items and {m.Rejected:N0} rejected in the destination{(m.Failure is null ? "" : $" ({m.Failure})")}")) + ". The rates are of the claims written until the job ended.");
        }

        text.AppendLine();
        text.AppendLine("| import | seconds | claims/s | API CPU s | server CPU s | benchmark CPU s | API peak RSS MB |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var m in measures)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {m.Name} | {m.Seconds:F1} | {m.ClaimsPerSecond:N0} | {m.ApiCpuSeconds:F1} | {(m.ServerCpuSeconds is { } s ? s.ToString("F1", CultureInfo.InvariantCulture) : "–")} | {m.ClientCpuSeconds:F1} | {m.PeakRssMb:F0} |");
        }

        return text.ToString();
    }

    /// <summary>Every claim of <paramref name="connectionString"/>'s database, as the NDJSON export writes them, into <paramref name="file"/>; returns the lines.</summary>
    private static async Task<long> ExportToFileAsync(string work, string connectionString, string file)
    {
        var baseUrl = $"http://127.0.0.1:{FreePort()}";
        using var api = StartApi(Path.Combine(work, "api"), connectionString, baseUrl);
        try
        {
            await WaitReadyAsync(baseUrl);
            using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = Timeout.InfiniteTimeSpan };
            http.DefaultRequestHeaders.Add(Caller.KeyHeader, Key);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/claims");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            await using (var body = await response.Content.ReadAsStreamAsync())
            await using (var target = File.Create(file))
            {
                await body.CopyToAsync(target);
            }

            long lines = 0;
            await using var written = File.OpenRead(file);
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await written.ReadAsync(buffer)) > 0)
            {
                lines += buffer.AsSpan(0, read).Count((byte)'\n');
            }

            return lines;
        }
        finally
        {
            api.Kill(entireProcessTree: true);
            await api.WaitForExitAsync();
        }
    }

    /// <summary>
    /// The file posted, streamed, to an API started on <paramref name="destination"/> made empty
    /// again, and the job followed to its end.
    /// </summary>
    private static async Task<ImportMeasure> ImportFileAsync(
        string work, string maintenance, string destination, string file, string name, (string Key, string Value)[] settings, TextWriter output)
    {
        await RecreateDatabaseAsync(maintenance, destination);
        var baseUrl = $"http://127.0.0.1:{FreePort()}";
        // An empty database is seeded when nothing says otherwise; the count checked after must be the file's alone.
        using var api = StartApi(Path.Combine(work, "api"), destination, baseUrl, [("Database__SeedWhenEmpty", "false"), .. settings]);
        try
        {
            await WaitReadyAsync(baseUrl);
            using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = Timeout.InfiniteTimeSpan };
            http.DefaultRequestHeaders.Add(Caller.KeyHeader, Key);
            var serverCpu = await ServerCpuAsync(destination);
            var apiCpu = ApiCpu(api);
            var clientCpu = Process.GetCurrentProcess().TotalProcessorTime;
            using var sampling = new CancellationTokenSource();
            var peak = SampleRssAsync(api.Id, sampling.Token);
            var clock = Stopwatch.StartNew();

            await using var body = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
            using var content = new StreamContent(body, 64 * 1024);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
            // Chunked: the API's body-size check refuses any declared Content-Length over 256 KB with
            // a 413 before POST /imports can raise its own limit; a streamed body declares none.
            using var request = new HttpRequestMessage(HttpMethod.Post, "/imports") { Content = content };
            request.Headers.TransferEncodingChunked = true;
            using var response = await http.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.Accepted || response.Headers.Location is not { } location)
            {
                throw new InvalidOperationException($"POST /imports answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }

            var uploaded = clock.Elapsed.TotalSeconds;
            ImportJob job;
            while ((job = (await http.GetFromJsonAsync<ImportJob>(location, ApiJson))!).State == ImportState.Running)
            {
                await Task.Delay(100);
            }

            var seconds = clock.Elapsed.TotalSeconds;
            await sampling.CancelAsync();
            var measure = new ImportMeasure(name, job.Written, job.Rejected, await CountAsync(destination, "claims"), await CountAsync(destination, "evidence"),
                seconds, await peak, (ApiCpu(api) - apiCpu).TotalSeconds, await ServerCpuAsync(destination) - serverCpu,
                (Process.GetCurrentProcess().TotalProcessorTime - clientCpu).TotalSeconds, job.State, job.Failure);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name}: {job.State}, {job.Written:N0} written, {job.Unchanged:N0} unchanged, {job.Rejected:N0} rejected in {seconds:F1} s (body sent in {uploaded:F1} s): {measure.ClaimsPerSecond:N0} claims/s; CPU API {measure.ApiCpuSeconds:F1} s, server {measure.ServerCpuSeconds:F1} s; peak RSS {measure.PeakRssMb:F0} MB"));
            if (job.Rejected > 0)
            {
                // The commonest errors, as the lines' messages name them, say what the round trip broke.
                output.WriteLine("  commonest errors: " + string.Join(" | ", job.Errors.GroupBy(e => $"{e.Field}: {e.Message}").OrderByDescending(g => g.Count()).Take(5)
                    .Select(g => $"{g.Count():N0} x (line {g.First().Line}) {g.Key}")));
            }

            // A failed job is a figure too: how far it got, how fast, and why it stopped.

            return measure;
        }
        finally
        {
            api.Kill(entireProcessTree: true);
            await api.WaitForExitAsync();
        }
    }

    private static readonly System.Text.Json.JsonSerializerOptions ApiJson = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.SnakeCaseLower) },
    };

    private static TimeSpan ApiCpu(Process api)
    {
        api.Refresh();
        return api.TotalProcessorTime;
    }

    /// <summary>
    /// The CPU seconds the server has spent: its postmaster's, with the backends it has reaped, and its
    /// live backends'. Null when the server is not on this machine (its data directory unreadable).
    /// </summary>
    private static async Task<double?> ServerCpuAsync(string connectionString)
    {
        string directory;
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SHOW data_directory", connection);
            directory = (string)(await command.ExecuteScalarAsync())!;
        }

        var pidFile = Path.Combine(directory, "postmaster.pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadLines(pidFile).First(), out var postmaster))
        {
            return null;
        }

        // Fields after the command's closing parenthesis, from the state (3rd) on: ppid is the 4th,
        // utime, stime, cutime and cstime the 14th to 17th, in clock ticks of 1/100 s.
        static string[]? Stat(string path)
        {
            try
            {
                var text = File.ReadAllText(path);
                return text[(text.LastIndexOf(')') + 2)..].Split(' ');
            }
            catch (IOException)
            {
                // The process ended between the listing and the read.
                return null;
            }
        }

        static long Ticks(string[] stat) => Enumerable.Range(11, 4).Sum(i => long.Parse(stat[i], CultureInfo.InvariantCulture));

        var ticks = Stat($"/proc/{postmaster}/stat") is { } own ? Ticks(own) : 0;
        var parent = postmaster.ToString(CultureInfo.InvariantCulture);
        foreach (var process in Directory.EnumerateDirectories("/proc").Where(d => char.IsAsciiDigit(Path.GetFileName(d)[0])))
        {
            if (Stat(Path.Combine(process, "stat")) is { } stat && stat[1] == parent)
            {
                ticks += Ticks(stat);
            }
        }

        return ticks / 100.0;
    }

    private static string OnDatabase(string connectionString, string database) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Database = database }.ConnectionString;

    private static string Name(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString).Database!;

    private static async Task RecreateDatabaseAsync(string maintenance, string database)
    {
        await DropDatabaseAsync(maintenance, database);
        await ExecuteOnServerAsync(maintenance, $"CREATE DATABASE \"{Name(database)}\"");
    }

    private static Task DropDatabaseAsync(string maintenance, string database) =>
        ExecuteOnServerAsync(maintenance, $"DROP DATABASE IF EXISTS \"{Name(database)}\" WITH (FORCE)");

    /// <summary>A statement on the server's postgres database, as databases are made and dropped from another one.</summary>
    private static async Task ExecuteOnServerAsync(string connectionString, string sql)
    {
        // Pooled connections to a database keep it from being dropped; none is needed after this.
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(OnDatabase(connectionString, "postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> CountAsync(string connectionString, string table)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<string> DescribeServerAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT current_setting('server_version'), current_setting('shared_buffers')", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return $"PostgreSQL {reader.GetString(0)} (shared_buffers {reader.GetString(1)})";
    }
}
