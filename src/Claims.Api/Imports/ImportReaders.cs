using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Claims.Api.Claims;
using Claims.Api.Errors;
using Claims.Api.Evidence;
using Claims.Api.Json;
using Claims.Api.Sources;
using CsvHelper;

namespace Claims.Api.Imports;

/// <summary>The formats POST /imports reads, by Content-Type.</summary>
public enum ImportFormat
{
    Ndjson,
    Csv,
}

/// <summary>
/// Reads an NDJSON body line by line as it arrives: one line in memory at a time (at most
/// <see cref="MaxLineBytes"/>), each parsed into an <see cref="ImportLine"/> and checked.
/// </summary>
internal static class NdjsonLines
{
    /// <summary>A claim with 50 evidence items of the longest quotes, notes and URLs fits with room to spare.</summary>
    public const int MaxLineBytes = 1024 * 1024;

    public static async IAsyncEnumerable<ParsedLine> ReadAsync(Stream body, ImportChecks checks, JsonSerializerOptions json, [EnumeratorCancellation] CancellationToken ct)
    {
        // The stream stays open: the command line's progress bar reads its position to the end.
        var pipe = PipeReader.Create(body, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        var line = 0;
        // Set while the rest of a line too long to keep is skipped.
        var skipping = false;
        try
        {
            while (true)
            {
                var read = await pipe.ReadAsync(ct);
                var buffer = read.Buffer;
                while (TryTakeLine(ref buffer, out var text))
                {
                    line++;
                    if (skipping)
                    {
                        skipping = false;
                        continue;
                    }

                    // Spreadsheet tools and Windows editors start UTF-8 files with a byte order mark.
                    if (line == 1 && text.Length >= 3 && text.Slice(0, 3).ToArray() is [0xEF, 0xBB, 0xBF])
                    {
                        text = text.Slice(3);
                    }

                    if (Parse(line, text, checks, json) is { } parsed)
                    {
                        yield return parsed;
                    }
                }

                if (read.IsCompleted)
                {
                    if (line == 0 && buffer.Length >= 3 && buffer.Slice(0, 3).ToArray() is [0xEF, 0xBB, 0xBF])
                    {
                        buffer = buffer.Slice(3);
                    }

                    if (!skipping && buffer.Length > 0 && Parse(line + 1, buffer, checks, json) is { } last)
                    {
                        yield return last;
                    }

                    pipe.AdvanceTo(buffer.End);
                    yield break;
                }

                if (!skipping && buffer.Length > MaxLineBytes)
                {
                    // Reported at once and its rest dropped as it comes, so that memory stays bounded.
                    skipping = true;
                    yield return new ParsedLine(line + 1, null, [new LineError(line + 1, null, $"The line is longer than {MaxLineBytes} bytes.")]);
                }

                pipe.AdvanceTo(skipping ? buffer.End : buffer.Start, buffer.End);
            }
        }
        finally
        {
            await pipe.CompleteAsync();
        }
    }

    private static bool TryTakeLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        if (buffer.PositionOf((byte)'\n') is not { } end)
        {
            line = default;
            return false;
        }

        line = buffer.Slice(0, end);
        buffer = buffer.Slice(buffer.GetPosition(1, end));
        return true;
    }

    /// <summary>The line checked, or null for a blank line.</summary>
    private static ParsedLine? Parse(int line, ReadOnlySequence<byte> text, ImportChecks checks, JsonSerializerOptions json)
    {
        if (IsBlank(text))
        {
            return null;
        }

        var reader = new Utf8JsonReader(text, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            reader.Read();

            var item = JsonSerializer.Deserialize<ImportLine>(ref reader, json);
            if (reader.Read())
            {
                return Rejected(line, null, "One JSON object per line: something follows the object.");
            }

            return item is null ? Rejected(line, null, "Must be a JSON object, not null.") : checks.Check(line, item, DateTime.UtcNow);
        }
        catch (JsonException e)
        {
            var field = e.Path is null or "$" ? null : e.Path.TrimStart('$', '.');
            return Rejected(line, field, ProblemMapping.DescribeJsonError(e, typeof(ImportLine)));
        }
    }

    private static bool IsBlank(ReadOnlySequence<byte> text)
    {
        foreach (var segment in text)
        {
            foreach (var b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static ParsedLine Rejected(int line, string? field, string message) => new(line, null, [new LineError(line, field, message)]);
}

/// <summary>
/// Reads a CSV in the spreadsheet shape: a header row, then one row per claim and source link.
/// Consecutive rows of the same claim (the same externalId, or without one the same language and
/// statement) make one claim with one evidence item per row that names a source.
/// </summary>
internal static class CsvRows
{
    /// <summary>The columns, by name; a header matches ignoring case, spaces, hyphens and underscores ("First reported on").</summary>
    public static readonly string[] Columns =
    [
        "externalId", "statement", "summary", "language", "tags", "firstReportedOn", "status", "statusNote",
        "sourceId", "sourceExternalId", "sourceName", "sourceKind", "reliability", "stance", "quote", "url", "publishedAt", "note", "credibility",
    ];

    /// <summary>Rows of one claim beyond this are not kept: a claim takes at most this many evidence items.</summary>
    private const int MaxRows = ClaimRules.MaxEvidencePerRequest + 1;

    // The evidence fields of ImportChecks' errors, by the column that holds them.
    private static readonly Dictionary<string, string> EvidenceColumns = new(StringComparer.Ordinal)
    {
        ["sourceId"] = "sourceId", ["source.id"] = "sourceId", ["source.externalId"] = "sourceExternalId", ["source.name"] = "sourceName",
        ["source.kind"] = "sourceKind", ["source.reliability"] = "reliability", ["stance"] = "stance", ["quote"] = "quote", ["url"] = "url",
        ["publishedAt"] = "publishedAt", ["note"] = "note", ["credibility"] = "credibility",
    };

    /// <summary>The header's columns by name, or the problem with it (an unknown or repeated column, no statement).</summary>
    public static (Dictionary<string, int>? Columns, string? Problem) ReadHeader(string[]? header)
    {
        if (header is null || header.Length == 0)
        {
            return (null, "The CSV is empty: its first row must name the columns, statement among them.");
        }

        var known = Columns.ToDictionary(Normalize, c => c, StringComparer.Ordinal);
        var found = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < header.Length; i++)
        {
            if (!known.TryGetValue(Normalize(header[i]), out var column))
            {
                return (null, $"Unknown column '{header[i]}' in the header row. The columns are: {string.Join(", ", Columns)}.");
            }

            if (!found.TryAdd(column, i))
            {
                return (null, $"The column '{column}' appears more than once in the header row.");
            }
        }

        return found.ContainsKey("statement") ? (found, null) : (null, "The header row has no statement column.");
    }

    /// <summary>The largest record read: a claim's row with the longest statement, summary, quote and note fits.</summary>
    public const int MaxRecordBytes = 256 * 1024;

    public static CsvReader Open(Stream body) =>
        CsvReader.Create(body, CsvReaderOptions.Default with
        {
            // Rows are reported by the line they start on; an unclosed quote cannot swallow the
            // rest of the file into one record that grows without bound.
            TrackLineNumbers = true,
            MaxRecordSize = MaxRecordBytes,
            // A spreadsheet's quirks (a stray quote, a short row) are read as they are; the checks say what is wrong.
            MalformedData = CsvMalformedDataHandling.Recover,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
            MissingField = CsvMissingFieldHandling.ReturnEmpty,
            SkipEmptyLines = true,
        }, leaveOpen: true);

    /// <summary>The header row's columns by name, or the problem with it (unreadable, empty, an unknown or repeated column, no statement).</summary>
    public static async Task<(Dictionary<string, int>? Columns, string? Problem)> ReadHeaderAsync(CsvReader csv, CancellationToken ct)
    {
        try
        {
            await csv.ReadHeaderAsync(ct);
        }
        catch (CsvFormatException e)
        {
            // Such as a quote that never closes: the header would run on past MaxRecordBytes.
            return (null, $"The header row could not be read: {e.Message}");
        }

        return ReadHeader(csv.Headers is { Count: > 0 } headers ? [.. headers] : null);
    }

    public static async IAsyncEnumerable<ParsedLine> ReadAsync(CsvReader csv, Dictionary<string, int> columns, ImportChecks checks, [EnumeratorCancellation] CancellationToken ct)
    {
        var group = new List<Row>();
        string? groupKey = null;
        while (await csv.ReadAsync(ct))
        {
            var row = new Row((int)csv.LineNumber, columns, csv);
            // Without an externalId, rows group as the claim's made key does: language and statement as stored.
            var key = row.Get("externalId") is { } externalId ? "x|" + externalId
                : $"s|{row.Get("language")?.Trim().ToLowerInvariant()}|{row.Get("statement")?.Trim()}";
            if (groupKey is not null && key != groupKey)
            {
                yield return Check(group, checks);
                group.Clear();
            }

            groupKey = key;
            // The claim's fields come from its first row and its evidence from the rows that name a
            // source: of those, one more than a claim may take is kept, so the excess is reported.
            if (group.Count == 0 || (row.NamesASource && group.Count(r => r.NamesASource) < MaxRows))
            {
                group.Add(row);
            }
        }

        if (group.Count > 0)
        {
            yield return Check(group, checks);
        }
    }

    private static ParsedLine Check(List<Row> rows, ImportChecks checks)
    {
        var first = rows[0];
        var errors = new List<LineError>();
        var linked = rows.Where(r => r.NamesASource).ToList();
        if (linked.Count > ClaimRules.MaxEvidencePerRequest)
        {
            errors.Add(new LineError(linked[ClaimRules.MaxEvidencePerRequest].Line, null,
                $"A claim takes at most {ClaimRules.MaxEvidencePerRequest} evidence items: this row is one too many."));
        }

        var evidence = linked.Take(ClaimRules.MaxEvidencePerRequest).Select(r => new ImportEvidence(
            null, null,
            new ImportSource(r.Uuid("sourceId", errors), r.Get("sourceExternalId"), r.Get("sourceName"), r.Enum<SourceKind>("sourceKind", errors), r.Grade("reliability", errors)),
            null, r.Enum<Stance>("stance", errors), r.Get("quote"), r.Get("url"), r.Moment("publishedAt", errors), r.Get("note"), r.Number("credibility", errors),
            null, null)).ToList();
        var tags = first.Get("tags")?.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var line = new ImportLine(
            null, first.Get("externalId"), first.Get("statement"), first.Get("summary"), first.Get("language"), tags, first.Day("firstReportedOn", errors),
            first.Enum<ClaimStatus>("status", errors), first.Get("statusNote"), null, null, null, null, evidence, null);
        if (errors.Count > 0)
        {
            return new ParsedLine(first.Line, null, errors);
        }

        var parsed = checks.Check(first.Line, line, DateTime.UtcNow);
        if (parsed.Draft is { } draft)
        {
            return parsed with { Draft = draft with { EvidenceLines = [.. linked.Select(r => r.Line)] } };
        }

        // The checks name JSON paths; a spreadsheet's user looks for a row and a column.
        return new ParsedLine(first.Line, null, [.. parsed.Errors.Select(e => e.Field switch
        {
            null => e,
            var f when f.StartsWith("evidence[", StringComparison.Ordinal) && f.IndexOf(']') is var end and > 0
                && int.TryParse(f.AsSpan(9, end - 9), NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < linked.Count =>
                new LineError(linked[i].Line, end + 2 < f.Length && EvidenceColumns.TryGetValue(f[(end + 2)..], out var column) ? column : null, e.Message),
            var f when f.StartsWith("tags", StringComparison.Ordinal) => e with { Field = "tags" },
            _ => e,
        })]);
    }

    /// <summary>The column of an evidence field as ImportChecks and ImportWriter name it (source.id), or null.</summary>
    public static string? ColumnOf(string evidenceField) => EvidenceColumns.GetValueOrDefault(evidenceField);

    private static string Normalize(string header) =>
        new([.. header.Where(c => c is not (' ' or '-' or '_') && !char.IsWhiteSpace(c)).Select(char.ToLowerInvariant)]);

    /// <summary>One row's fields by column name, and where it starts in the file.</summary>
    private sealed class Row
    {
        private readonly Dictionary<string, string?> _fields = new(StringComparer.Ordinal);

        public Row(int line, Dictionary<string, int> columns, CsvReader csv)
        {
            Line = line;
            foreach (var (name, index) in columns)
            {
                _fields[name] = index < csv.FieldCount && csv.GetString(index) is { } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
            }
        }

        public int Line { get; }

        public bool NamesASource => Get("sourceName") is not null || Get("sourceId") is not null || Get("sourceExternalId") is not null || Get("stance") is not null;

        public string? Get(string column) => _fields.GetValueOrDefault(column);

        public T? Enum<T>(string column, List<LineError> errors) where T : struct, System.Enum
        {
            if (Get(column) is not { } text)
            {
                return null;
            }

            // Spreadsheets write "unable to verify" or "Social media"; the API's names are snake_case.
            if (EnumNames<T>.TryParse(text.ToLowerInvariant().Replace(' ', '_').Replace('-', '_'), out var value))
            {
                return value;
            }

            errors.Add(new LineError(Line, column, $"'{text}' is not one of: {EnumNames<T>.AllowedList}."));
            return null;
        }

        public Reliability? Grade(string column, List<LineError> errors)
        {
            if (Get(column) is not { } text)
            {
                return null;
            }

            if (text.Length == 1 && EnumNames<Reliability>.TryParse(text.ToUpperInvariant(), out var grade))
            {
                return grade;
            }

            errors.Add(new LineError(Line, column, $"'{text}' is not a reliability grade: one of {EnumNames<Reliability>.AllowedList}."));
            return null;
        }

        public DateOnly? Day(string column, List<LineError> errors)
        {
            if (Get(column) is not { } text)
            {
                return null;
            }

            if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                return day;
            }

            errors.Add(new LineError(Line, column, $"'{text}' is not an ISO 8601 date such as 2024-10-23."));
            return null;
        }

        public DateTimeOffset? Moment(string column, List<LineError> errors)
        {
            if (Get(column) is not { } text)
            {
                return null;
            }

            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var moment))
            {
                return moment;
            }

            errors.Add(new LineError(Line, column, $"'{text}' is not an ISO 8601 timestamp such as 2024-10-23T14:05:00Z."));
            return null;
        }

        public int? Number(string column, List<LineError> errors)
        {
            if (Get(column) is not { } text)
            {
                return null;
            }

            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                return number;
            }

            errors.Add(new LineError(Line, column, $"'{text}' is not a whole number."));
            return null;
        }

        public Guid? Uuid(string column, List<LineError> errors)
        {
            if (Get(column) is not { } text)
            {
                return null;
            }

            if (Guid.TryParse(text, out var id))
            {
                return id;
            }

            errors.Add(new LineError(Line, column, $"'{text}' is not a UUID."));
            return null;
        }
    }
}
