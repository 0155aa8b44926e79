using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Claims.Api.Http;
using Npgsql;

namespace Claims.Benchmarks;

/// <summary>
/// Issue 15's exports: every claim as NDJSON (with evidence) and as CSV through the API, against
/// PostgreSQL's own COPY ... TO STDOUT of the same rows in the same run, with the API process's
/// resident memory sampled while it streams.
/// </summary>
public static partial class BenchmarkRun
{
    // The rows each export reads, as the API's statements read them, for COPY to send as fast as PostgreSQL can.
    private const string CopyClaims =
        "COPY (SELECT c.id, c.statement, c.summary, c.language, c.tags, c.first_reported_on, c.status, c.status_note, c.created_at, c.updated_at, c.version, c.created_by, c.external_id "
        + "FROM claims c ORDER BY c.updated_at DESC, c.id DESC) TO STDOUT WITH (FORMAT csv, HEADER)";

    private const string CopyClaimsWithEvidence =
        "COPY (SELECT c.id, c.statement, c.summary, c.language, c.tags, c.first_reported_on, c.status, c.status_note, c.created_at, c.updated_at, c.version, c.created_by, c.external_id, "
        + "(SELECT json_agg(json_build_object('id', h.id, 'fromStatus', h.from_status, 'toStatus', h.to_status, 'note', h.note, 'changedAt', h.changed_at, 'changedBy', h.changed_by) "
        + "ORDER BY h.changed_at, h.id) FROM claim_status_changes h WHERE h.claim_id = c.id)::text, "
        + "e.id, e.source_id, s.name, s.kind, s.reliability, e.stance, e.quote, e.url, e.published_at, e.note, e.credibility, e.created_at, e.created_by "
        + "FROM claims c LEFT JOIN evidence e ON e.claim_id = c.id LEFT JOIN sources s ON s.id = e.source_id "
        + "ORDER BY c.updated_at DESC, c.id DESC, e.created_at, e.id) TO STDOUT";

    private sealed record ExportMeasure(string Name, long Rows, double Seconds, long Bytes, double PeakRssMb)
    {
        public double RowsPerSecond => Rows / Seconds;
    }

    /// <summary>
    /// The <c>export</c> verb, on whatever the database holds: each export and its COPY, in turns,
    /// best of three (one with --quick), after one unmeasured export of each to warm the API up.
    /// </summary>
    public static async Task<int> ExportAsync(string connectionString, bool quick, bool writeReadme, TextWriter output)
    {
        var work = Directory.CreateTempSubdirectory("claims-export-").FullName;
        output.WriteLine($"Publishing the API to {work} ...");
        await PublishApiAsync(work);
        var baseUrl = $"http://127.0.0.1:{FreePort()}";
        var loadBefore = LoadAverage();
        using var api = StartApi(Path.Combine(work, "api"), connectionString, baseUrl);
        try
        {
            await WaitReadyAsync(baseUrl);
            long claims;
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync();
                await using var count = new NpgsqlCommand("SELECT count(*) FROM claims", connection);
                claims = (long)(await count.ExecuteScalarAsync())!;
            }

            using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = Timeout.InfiniteTimeSpan };
            http.DefaultRequestHeaders.Add(Caller.KeyHeader, Key);
            var restingRss = RssMb(api.Id);
            output.WriteLine($"Database: {claims:N0} claims; the API's RSS before any export: {restingRss:F0} MB. Warming up...");
            await ApiExportAsync(http, api, "application/x-ndjson", claims);
            await ApiExportAsync(http, api, "text/csv", claims);

            var rounds = quick ? 1 : 3;
            var best = new Dictionary<string, ExportMeasure>();
            for (var round = 0; round < rounds; round++)
            {
                foreach (var measure in new[]
                {
                    await ApiExportAsync(http, api, "application/x-ndjson", claims),
                    await CopyAsync(connectionString, CopyClaimsWithEvidence, "COPY claims with evidence (text)", claims),
                    await ApiExportAsync(http, api, "text/csv", claims),
                    await CopyAsync(connectionString, CopyClaims, "COPY claims (csv)", claims),
                })
                {
                    output.WriteLine($"  {measure.Name}: {measure.RowsPerSecond:N0} claims/s ({measure.Seconds:F2} s, {measure.Bytes / 1048576.0:F0} MB)");
                    if (!best.TryGetValue(measure.Name, out var previous) || measure.Seconds < previous.Seconds)
                    {
                        best[measure.Name] = measure;
                    }
                }
            }

            var text = new StringBuilder();
            var database = await DescribeDatabaseAsync(connectionString, claims);
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"Exports (`export{(quick ? " --quick" : "")}`, {DateTime.UtcNow:yyyy-MM-dd}): {Environment.ProcessorCount} cores shared with other work, {CpuModel()}, load average {loadBefore} before the run and {LoadAverage()} after it; {database}; GET /claims over loopback, best of {rounds}, each against COPY ... TO STDOUT of the same rows in the same run; peak RSS is the API process's highest resident memory sampled every 50 ms during the export (VmHWM, its peak since start-up, in brackets); {restingRss:F0} MB before the first export."));
            text.AppendLine();
            text.AppendLine("| export | claims | MB | claims/s | COPY claims/s | ratio (target ≥ 0.5) | API peak RSS MB (target < 300) |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
            var failed = false;
            foreach (var (export, copy) in new[] { ("application/x-ndjson", "COPY claims with evidence (text)"), ("text/csv", "COPY claims (csv)") })
            {
                var measured = best[export];
                var baseline = best[copy];
                var ratio = measured.RowsPerSecond / baseline.RowsPerSecond;
                failed |= ratio < 0.5 || measured.PeakRssMb >= 300;
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {export} | {measured.Rows:N0} | {measured.Bytes / 1048576.0:F0} | {measured.RowsPerSecond:N0} | {baseline.RowsPerSecond:N0} | {ratio:F2} | {measured.PeakRssMb:F0} ({PeakRssMb(api.Id):F0}) |");
            }

            output.WriteLine(text);
            if (writeReadme)
            {
                WriteReadme(Path.Combine(RepositoryRoot(), "README.md"), "exports", text.ToString());
                output.WriteLine("README.md's export figures updated.");
            }

            return failed ? 1 : 0;
        }
        finally
        {
            api.Kill(entireProcessTree: true);
            await api.WaitForExitAsync();
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>One export read to its end, its rows counted (lines, or CSV records), the API's memory sampled meanwhile.</summary>
    private static async Task<ExportMeasure> ApiExportAsync(HttpClient http, Process api, string mediaType, long claims)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/claims");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
        using var sampling = new CancellationTokenSource();
        var peak = SampleRssAsync(api.Id, sampling.Token);
        var clock = Stopwatch.StartNew();
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        var counted = new CountingStream(body);
        long rows = 0;
        if (mediaType == "text/csv")
        {
            await using var csv = CsvHelper.CsvReader.Create(counted, leaveOpen: true);
            while (await csv.ReadAsync())
            {
                rows++;
            }
        }
        else
        {
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await counted.ReadAsync(buffer)) > 0)
            {
                rows += buffer.AsSpan(0, read).Count((byte)'\n');
            }
        }

        var seconds = clock.Elapsed.TotalSeconds;
        await sampling.CancelAsync();
        if (rows != claims)
        {
            throw new InvalidOperationException($"The {mediaType} export gave {rows:N0} rows for {claims:N0} claims.");
        }

        return new ExportMeasure(mediaType, rows, seconds, counted.Bytes, await peak);
    }

    private static async Task<ExportMeasure> CopyAsync(string connectionString, string copy, string name, long claims)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var clock = Stopwatch.StartNew();
        using var reader = await connection.BeginTextExportAsync(copy);
        var buffer = new char[32 * 1024];
        long chars = 0;
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            chars += read;
        }

        return new ExportMeasure(name, claims, clock.Elapsed.TotalSeconds, chars, 0);
    }

    private static double RssMb(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    /// <summary>The highest VmRSS of the process, every 50 ms until cancelled, in MB.</summary>
    private static async Task<double> SampleRssAsync(int pid, CancellationToken ct)
    {
        var peak = 0.0;
        while (!ct.IsCancellationRequested)
        {
            peak = Math.Max(peak, RssMb(pid));
            try
            {
                await Task.Delay(50, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return peak;
    }

    /// <summary>A read-only stream that counts the bytes read through it.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Bytes { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Bytes; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int read)
        {
            Bytes += read;
            return read;
        }
    }
}
