using System.Data.Common;
using Claims.Api.Auth;
using System.Text.Json;
using Claims.Api.Claims;
using Claims.Api.Evidence;
using Claims.Api.Json;
using Claims.Api.Sources;
using Claims.Api.Validation;
using Claims.Api.Verification;
using CsvHelper;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Claims.Api.Exports;

/// <summary>
/// The exports of claims, sources and evidence: the same filters as the JSON lists, every
/// matching row, newest first, in one statement each.
/// </summary>
public static class Exports
{
    public static readonly string[] ClaimColumns =
        ["id", "statement", "summary", "language", "tags", "firstReportedOn", "status", "statusNote", "createdAt", "updatedAt", "version", "createdBy", "externalId"];

    public static readonly string[] SourceColumns =
        ["id", "name", "kind", "description", "url", "reliability", "createdAt", "updatedAt", "version", "createdBy"];

    public static readonly string[] EvidenceColumns =
        ["id", "claimId", "sourceId", "sourceName", "stance", "quote", "url", "publishedAt", "credibility", "note", "createdAt"];

    /// <summary>GET /evidence: the links of the claims that match, an export only.</summary>
    public static RouteHandlerBuilder MapEvidenceExport(this IEndpointRouteBuilder app) =>
        app.MapGet("/evidence", ExportEvidence).WithName(nameof(ExportEvidence)).WithTags("Evidence").Allow(Role.Reader).Exports(pageToo: false)
            .WithSummary("Export the evidence links of the claims that match, as CSV or NDJSON")
            .WithDescription("Every link between a claim and a source, for the claims the filters of GET /claims select (with sourceId, and stance, only that source's links), "
                + "in the claims' order (newest changed first, or sort) and each claim's links oldest first. Streamed whole: no limit, no cursor. "
                + "text/csv has one row per link; application/x-ndjson one evidence item per line, as GET /claims/{id} nests them. "
                + "Without Accept (or with */*) the answer is NDJSON; application/json alone answers 406.")
            .ProducesProblem(StatusCodes.Status406NotAcceptable);

    /// <summary>GET /claims as an export.</summary>
    internal static ExportResult Claims(HttpContext http, ClaimQuery query, ExportFormat format)
    {
        ExportResult.OutlastDeadline(http);
        var selection = ClaimSearch.Select(query);
        return format == ExportFormat.Csv
            ? new ExportResult(format, $"""
                {selection.With}
                SELECT {ClaimsApi.QualifiedColumns("c")}, c.external_id
                FROM claims c
                {selection.Where()}
                {selection.OrderBy()}
                """, selection.Parameters, ClaimRecords)
            // The claims with their evidence, one row per link (or one for a claim without),
            // in the claims' order and each claim's links oldest first, as GET /claims/{id} lists
            // them; with the history, so that an import of the export restores it. The history
            // comes with every link of a claim and is read from the first: aggregating it in a
            // subquery fenced off from the join made PostgreSQL sort every row before the first
            // went out, where this plan streams them in the index's order.
            : new ExportResult(format, $"""
                {selection.With}
                SELECT {ClaimsApi.QualifiedColumns("c")}, c.external_id,
                       (SELECT json_agg(json_build_object('id', h.id, 'fromStatus', h.from_status, 'toStatus', h.to_status, 'note', h.note,
                                                          'changedAt', h.changed_at, 'changedBy', h.changed_by) ORDER BY h.changed_at, h.id)
                        FROM claim_status_changes h WHERE h.claim_id = c.id)::text AS history,
                       e.id AS evidence_id, e.source_id, src.name AS source_name, src.kind AS source_kind, src.reliability AS source_reliability,
                       e.stance, e.quote, e.url, e.published_at, e.note, e.credibility, e.created_at AS evidence_created_at, e.created_by AS evidence_created_by,
                       array_to_string(e.via_source_ids, ',') AS via_source_ids, {EvidenceStore.ViaSources} AS via_sources
                FROM claims c
                LEFT JOIN evidence e ON e.claim_id = c.id
                LEFT JOIN sources src ON src.id = e.source_id
                {selection.Where()}
                {selection.OrderBy("e.created_at, e.id")}
                """, selection.Parameters, WriteClaimLinesAsync);
    }

    /// <summary>GET /sources as an export.</summary>
    internal static ExportResult Sources(HttpContext http, SourceQuery query, ExportFormat format, string columns)
    {
        ExportResult.OutlastDeadline(http);
        // q filters as in the JSON list (a name that contains it, or is close to it) without ranking.
        var q = VisibleText.OrNull(query.Q);
        var parameters = new DynamicParameters();
        var filters = new List<string>();
        if (query.Kind is not null)
        {
            filters.Add("kind = @Kind");
            parameters.Add("Kind", query.Kind);
        }

        if (query.Reliability is not null)
        {
            filters.Add("reliability = @Reliability");
            parameters.Add("Reliability", query.Reliability);
        }

        if (q is not null)
        {
            filters.Add("(name ILIKE @Like OR name % @Q)");
            parameters.Add("Q", q);
            parameters.Add("Like", Patterns.Contains(q));
        }

        var where = filters.Count == 0 ? "" : "WHERE " + string.Join(" AND ", filters);
        return new ExportResult(format, $"SELECT {columns} FROM sources {where} ORDER BY created_at DESC, id DESC", parameters,
            format == ExportFormat.Csv ? SourceRecords : SourceLines);
    }

    public static Results<ExportResult, ValidationProblem, ProblemHttpResult> ExportEvidence([AsParameters] ClaimQuery query, HttpContext http)
    {
        var format = ExportFormats.Negotiate(http.Request);
        if (format == ExportFormat.Page)
        {
            // No Accept, or */*, is a client that takes what comes: NDJSON. Only JSON itself cannot be had.
            var accept = http.Request.Headers.Accept.ToString();
            if (accept.Length > 0 && !accept.Contains("*/*", StringComparison.Ordinal))
            {
                return ExportResult.NotAcceptable();
            }

            format = ExportFormat.Ndjson;
        }

        if (ExportResult.Refusal(query.Limit, query.Cursor, query.Sort) is { } refusal)
        {
            return refusal;
        }

        ExportResult.OutlastDeadline(http);
        var selection = ClaimSearch.Select(query);
        List<string> links = query.SourceId is null ? [] : query.Stance is null ? ["e.source_id = @SourceId"] : ["e.source_id = @SourceId", "e.stance = @Stance"];
        return new ExportResult(format, $"""
            {selection.With}
            SELECT {EvidenceStore.SelectColumns}
            FROM claims c
            JOIN evidence e ON e.claim_id = c.id
            JOIN sources s ON s.id = e.source_id
            {selection.Where(links)}
            {selection.OrderBy("e.created_at, e.id")}
            """, selection.Parameters, format == ExportFormat.Csv ? EvidenceRecords : EvidenceLines);
    }

    // The CSV records are written from the reader's columns by position (the SELECT's order),
    // typed values formatted straight into CsvHelper's UTF-8 buffer: building a row object and
    // strings for every value first cost half the export's time.
    private static readonly Func<DbDataReader, ExportSink, CancellationToken, Task> ClaimRecords = Records(ClaimColumns, (r, csv) =>
    {
        csv.WriteField(r.GetGuid(0));
        csv.Text(r, 1);
        csv.Text(r, 2);
        csv.Text(r, 3);
        csv.WriteField(string.Join(';', r.GetFieldValue<string[]>(4)));
        csv.Day(r, 5);
        csv.Text(r, 6);
        csv.Text(r, 7);
        csv.Time(r, 8);
        csv.Time(r, 9);
        csv.WriteField(r.GetInt32(10));
        csv.Text(r, 11);
        // 12 is canonical_claim_id, which ClaimsApi.Columns ends with and the CSV leaves out.
        csv.Text(r, 13);
    });

    private static readonly Func<DbDataReader, ExportSink, CancellationToken, Task> SourceRecords = Records(SourceColumns, (r, csv) =>
    {
        csv.WriteField(r.GetGuid(0));
        for (var i = 1; i <= 5; i++)
        {
            csv.Text(r, i);
        }

        csv.Time(r, 6);
        csv.Time(r, 7);
        csv.WriteField(r.GetInt32(8));
        csv.Text(r, 9);
    });

    private static readonly Func<DbDataReader, ExportSink, CancellationToken, Task> SourceLines = Lines<SourceRow, Source>(s => s.ToSource());

    // Positions in EvidenceStore.SelectColumns.
    private static readonly Func<DbDataReader, ExportSink, CancellationToken, Task> EvidenceRecords = Records(EvidenceColumns, (r, csv) =>
    {
        csv.WriteField(r.GetGuid(0));
        csv.WriteField(r.GetGuid(1));
        csv.WriteField(r.GetGuid(2));
        csv.Text(r, 3);
        csv.Text(r, 6);
        csv.Text(r, 7);
        csv.Text(r, 8);
        csv.Time(r, 9);
        csv.WriteField((int)r.GetInt16(11));
        csv.Text(r, 10);
        csv.Time(r, 12);
    });

    private static readonly Func<DbDataReader, ExportSink, CancellationToken, Task> EvidenceLines = Lines<EvidenceRow, EvidenceItem>(e => e.ToItem());

    /// <summary>A CSV export: the header, then a record per row.</summary>
    private static Func<DbDataReader, ExportSink, CancellationToken, Task> Records(string[] header, Action<DbDataReader, CsvWriter> fields) =>
        async (reader, sink, ct) =>
        {
            sink.Header(header);
            while (await reader.ReadAsync(ct))
            {
                await sink.RecordAsync(fields, reader, ct);
            }
        };

    /// <summary>An NDJSON export of one item per row.</summary>
    private static Func<DbDataReader, ExportSink, CancellationToken, Task> Lines<TRow, TItem>(Func<TRow, TItem> item) =>
        async (reader, sink, ct) =>
        {
            var parse = reader.GetRowParser<TRow>();
            while (await reader.ReadAsync(ct))
            {
                await sink.LineAsync(item(parse(reader)), ct);
            }
        };

    private static async Task WriteClaimLinesAsync(DbDataReader reader, ExportSink sink, CancellationToken ct)
    {
        var parse = reader.GetRowParser<ClaimLinkRow>();
        ClaimLinkRow? claim = null;
        var evidence = new List<EvidenceItem>();
        while (await reader.ReadAsync(ct))
        {
            var row = parse(reader);
            if (claim is not null && row.Id != claim.Id)
            {
                await sink.LineAsync(claim.ToLine(evidence), ct);
                evidence.Clear();
            }

            claim = row;
            if (row.Link() is { } item)
            {
                evidence.Add(item);
            }
        }

        if (claim is not null)
        {
            await sink.LineAsync(claim.ToLine(evidence), ct);
        }
    }

    /// <summary>A claim with one of its evidence links, or none: the rows of the NDJSON export.</summary>
    private sealed record ClaimLinkRow : ClaimRow
    {
        public string? ExternalId { get; init; }
        public string? History { get; init; }

        public Guid? EvidenceId { get; init; }
        public Guid? SourceId { get; init; }
        public string? SourceName { get; init; }
        public string? SourceKind { get; init; }
        public string? SourceReliability { get; init; }
        public string? Stance { get; init; }
        public string? Quote { get; init; }
        public string? Url { get; init; }
        public DateTime? PublishedAt { get; init; }
        public string? Note { get; init; }
        public short? Credibility { get; init; }
        public DateTime? EvidenceCreatedAt { get; init; }
        public string? EvidenceCreatedBy { get; init; }
        public string? ViaSourceIds { get; init; }
        public string? ViaSources { get; init; }

        public ClaimLine ToLine(IReadOnlyList<EvidenceItem> evidence) => new(
            Id, ExternalId, Statement, Summary, Language, Tags, FirstReportedOn, EnumNames<ClaimStatus>.Parse(Status), StatusNote,
            CreatedAt, UpdatedAt, Version, CreatedBy, [.. evidence],
            History is null ? [] : JsonSerializer.Deserialize<List<HistoryEntry>>(History, HistoryJson)!.Select(h => h.ToChange()).ToList(),
            CanonicalClaimId);

        public EvidenceItem? Link() => EvidenceId is { } id
            ? new EvidenceRow(id, Id, SourceId!.Value, SourceName!, SourceKind!, SourceReliability!, Stance!, Quote, Url, PublishedAt, Note,
                Credibility!.Value, EvidenceCreatedAt!.Value, EvidenceCreatedBy, ViaSourceIds!,
                ViaSourceIds!.Length == 0 ? SourceId!.Value : Guid.Parse(ViaSourceIds[(ViaSourceIds.LastIndexOf(',') + 1)..]), ViaSources).ToItem()
            : null;
    }

    private static readonly JsonSerializerOptions HistoryJson = new(JsonSerializerDefaults.Web);

    /// <summary>A status change as the export's statement aggregates it (PostgreSQL's json, statuses as stored).</summary>
    private sealed record HistoryEntry(Guid Id, string? FromStatus, string ToStatus, string? Note, DateTime ChangedAt, string? ChangedBy)
    {
        public StatusChange ToChange() => new StatusChangeRow(Id, FromStatus, ToStatus, Note, ChangedAt.ToUniversalTime(), ChangedBy).ToChange();
    }
}
