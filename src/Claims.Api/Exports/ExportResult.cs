using Claims.Api.Data;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Claims.Api.Errors;
using CsvHelper;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Exports;

/// <summary>
/// Every row of one statement, written to the answer as it is read: the reader holds one row at a
/// time, and the answer at most <see cref="ExportSink.FlushBytes"/> more before they go out, so
/// memory stays the same whatever the number of rows. The statement runs under the client's
/// connection token with no command timeout: a client that leaves cancels it (Npgsql asks
/// PostgreSQL to stop it), and a long export is no reason to. The request's deadline does not apply.
/// </summary>
public sealed class ExportResult : IResult
{
    private readonly ExportFormat _format;
    private readonly string _sql;
    private readonly DynamicParameters _parameters;
    private readonly Func<DbDataReader, ExportSink, CancellationToken, Task> _write;

    internal ExportResult(ExportFormat format, string sql, DynamicParameters parameters, Func<DbDataReader, ExportSink, CancellationToken, Task> write)
    {
        _format = format;
        _sql = sql;
        _parameters = parameters;
        _write = write;
    }

    public async Task ExecuteAsync(HttpContext http)
    {
        // Under WithWholeAnswers, RequestAborted is the connection's own token here, not the deadline's.
        var ct = http.RequestAborted;
        await using var connection = await http.RequestServices.GetRequiredService<Reads>().OpenAsync(http, ct);
        // The connection's 5 s statement_timeout bounds requests; an export has no bound but the
        // client's patience. A session setting, so RESET at the end whatever happens: pooled
        // connections are not reset on close here (Database.WithTimeouts).
        await using (var unbounded = new NpgsqlCommand("SET statement_timeout = 0", connection))
        {
            await unbounded.ExecuteNonQueryAsync(ct);
        }

        try
        {
            await StreamAsync(http, connection, ct);
        }
        finally
        {
            await ResetTimeoutAsync(connection);
        }
    }

    private async Task StreamAsync(HttpContext http, NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(_sql, connection) { CommandTimeout = 0 };
        // The parameters added by name (a template object's would not be listed here).
        foreach (var name in _parameters.ParameterNames)
        {
            command.Parameters.AddWithValue(name, _parameters.Get<object?>(name) ?? DBNull.Value);
        }

        var reader = await command.ExecuteReaderAsync(ct);
        http.Response.ContentType = _format.ContentType();
        var json = http.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        await using var sink = new ExportSink(http.Response.Body, _format, json);
        try
        {
            await _write(reader, sink, ct);
            await sink.CompleteAsync(ct);
            await reader.DisposeAsync();
        }
        catch (Exception e)
        {
            // Closing a reader reads its remaining rows, all of them: the statement is cancelled first.
            command.Cancel();
            await CloseQuietlyAsync(reader);
            var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger<ExportResult>();
            if (ct.IsCancellationRequested)
            {
                logger.LogInformation("Export ended after {Rows} rows: the client left", sink.Rows);
                return;
            }

            if (!http.Response.HasStarted)
            {
                throw;
            }

            // A 200 is on its way: only a broken transfer tells the client that it did not get every row.
            logger.LogError(e, "Export failed after {Rows} rows", sink.Rows);
            http.Abort();
        }
    }

    private static async Task ResetTimeoutAsync(NpgsqlConnection connection)
    {
        try
        {
            await using var reset = new NpgsqlCommand("RESET statement_timeout", connection) { CommandTimeout = 1 };
            // Not under the client's token: the connection goes back to the pool either way.
            await reset.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // A broken connection is not returned to the pool, so its setting goes with it.
        }
    }

    /// <summary>
    /// The 400 of an export asked with paging or ranking: an export is every row in a time order.
    /// </summary>
    public static ValidationProblem? Refusal(int? limit, string? cursor, string? sort = null)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (limit is not null)
        {
            errors["limit"] = ["An export (text/csv, application/x-ndjson) answers every matching row; leave limit out."];
        }

        if (cursor is not null)
        {
            errors["cursor"] = ["An export (text/csv, application/x-ndjson) answers every matching row; leave cursor out."];
        }

        if (sort == Claims.ClaimQuery.Relevance)
        {
            errors["sort"] = ["An export is not ranked: it lists every match newest first (-updatedAt, or -createdAt, -firstReportedOn)."];
        }

        return errors.Count == 0 ? null : Problems.Invalid(errors);
    }

    /// <summary>The answer that no export format was asked for, on an endpoint that only exports.</summary>
    public static ProblemHttpResult NotAcceptable() => ProblemTypes.NotAcceptable.Result(
        $"This list is an export only: send Accept: {ExportFormats.Csv} or Accept: {ExportFormats.Ndjson}.");

    /// <summary>Takes the export out of the request's deadline, which every other answer keeps.</summary>
    public static void OutlastDeadline(HttpContext http)
    {
        http.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
        http.Response.Headers.Append(Microsoft.Net.Http.Headers.HeaderNames.Vary, Microsoft.Net.Http.Headers.HeaderNames.Accept);
    }

    private static async Task CloseQuietlyAsync(NpgsqlDataReader reader)
    {
        try
        {
            await reader.DisposeAsync();
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or InvalidOperationException)
        {
            // The cancellation it was closed under; the connection goes back to the pool reset.
        }
    }
}

/// <summary>
/// The answer's body, in chunks of about <see cref="FlushBytes"/>: CSV through CsvHelper's
/// writer, which writes UTF-8 to the body and flushes asynchronously when its buffer is mostly
/// full; NDJSON through a buffer that goes out asynchronously once it holds that much (a
/// Utf8JsonWriter over the body would write to it synchronously, which Kestrel refuses).
/// </summary>
internal sealed class ExportSink : IAsyncDisposable
{
    public const int FlushBytes = 32 * 1024;

    // RFC 4180: CRLF after every record, a field quoted when it holds a comma, a quote, CR or LF
    // (quotes doubled), no byte order mark. Values go out as stored: a statement that starts with
    // = is the claim's text, so no spreadsheet-injection escaping (which would change it).
    private static readonly CsvWriterOptions CsvSettings = CsvWriterOptions.Default with
    {
        NewLine = "\r\n",
        Injection = CsvInjection.None,
        WriteByteOrderMark = false,
        BufferSize = FlushBytes * 2,
    };

    private readonly Stream _body;
    private readonly JsonSerializerOptions _json;
    private readonly MemoryStream? _buffer;
    private readonly Utf8JsonWriter? _jsonWriter;
    private readonly CsvWriter? _csv;

    public ExportSink(Stream body, ExportFormat format, JsonSerializerOptions json)
    {
        _body = body;
        _json = json;
        if (format == ExportFormat.Csv)
        {
            _csv = CsvWriter.Create(body, CsvSettings, leaveOpen: true);
        }
        else
        {
            _buffer = new MemoryStream(FlushBytes * 2);
            _jsonWriter = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = json.Encoder, SkipValidation = true });
        }
    }

    /// <summary>How many rows (lines, or records after the header) went into the answer.</summary>
    public long Rows { get; private set; }

    /// <summary>One line of NDJSON: the value as the JSON answers give it.</summary>
    public ValueTask LineAsync<T>(T value, CancellationToken ct)
    {
        JsonSerializer.Serialize(_jsonWriter!, value, _json);
        _jsonWriter!.Flush();
        _jsonWriter.Reset();
        _buffer!.WriteByte((byte)'\n');
        Rows++;
        return _buffer.Length >= FlushBytes ? new ValueTask(FlushLinesAsync(ct)) : ValueTask.CompletedTask;
    }

    /// <summary>The CSV header row.</summary>
    public void Header(params ReadOnlySpan<string> names) => _csv!.WriteHeader(names);

    /// <summary>One CSV record, its fields written from the reader's current row.</summary>
    public ValueTask RecordAsync(Action<DbDataReader, CsvWriter> fields, DbDataReader reader, CancellationToken ct)
    {
        fields(reader, _csv!);
        Rows++;
        return _csv!.EndRecordAsync(ct);
    }

    public async Task CompleteAsync(CancellationToken ct)
    {
        if (_csv is not null)
        {
            await _csv.FlushAsync(ct);
        }
        else
        {
            await FlushLinesAsync(ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_csv is not null)
        {
            await _csv.DisposeAsync();
        }

        if (_jsonWriter is not null)
        {
            await _jsonWriter.DisposeAsync();
        }

        if (_buffer is not null)
        {
            await _buffer.DisposeAsync();
        }
    }

    private async Task FlushLinesAsync(CancellationToken ct)
    {
        await _body.WriteAsync(_buffer!.GetBuffer().AsMemory(0, (int)_buffer.Length), ct);
        await _body.FlushAsync(ct);
        _buffer.SetLength(0);
    }
}

/// <summary>How CSV exports write a column: text as stored, an absent value as an empty field, times in ISO 8601 UTC.</summary>
internal static class CsvFields
{
    // As the JSON answers write them: fractions of a second only as far as they go, Z for UTC.
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK";

    public static void Text(this CsvWriter csv, DbDataReader reader, int column) =>
        csv.WriteField(reader.IsDBNull(column) ? null : reader.GetString(column));

    public static void Time(this CsvWriter csv, DbDataReader reader, int column)
    {
        if (reader.IsDBNull(column))
        {
            csv.WriteField((string?)null);
        }
        else
        {
            csv.WriteField(reader.GetDateTime(column), TimeFormat);
        }
    }

    public static void Day(this CsvWriter csv, DbDataReader reader, int column)
    {
        if (reader.IsDBNull(column))
        {
            csv.WriteField((string?)null);
        }
        else
        {
            csv.WriteField(reader.GetFieldValue<DateOnly>(column), "yyyy-MM-dd");
        }
    }
}
