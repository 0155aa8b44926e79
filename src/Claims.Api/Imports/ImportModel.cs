using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Claims.Api.Claims;
using Claims.Api.Evidence;
using Claims.Api.Sources;

namespace Claims.Api.Imports;

/// <summary>Settings of bulk import (section Imports).</summary>
public sealed class ImportsOptions
{
    /// <summary>The largest body POST /imports reads; the other endpoints keep RequestLimits.MaxBodyBytes.</summary>
    public long MaxBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Lines written per transaction: each batch commits with the job's report, so a failure loses none that were settled.</summary>
    public int BatchLines { get; set; } = 1000;

    /// <summary>Rejected lines after which the job stops: a file that is mostly wrong is not worth reading to its end.</summary>
    public int MaxRejected { get; set; } = 10_000;
}

/// <summary>Where an import job stands.</summary>
public enum ImportState
{
    /// <summary>Lines are being read and written.</summary>
    Running,
    /// <summary>Every line was read and settled; the report is complete.</summary>
    Done,
    /// <summary>The job stopped before the end (see failure); every line up to settledThrough is as reported, and none after it was written.</summary>
    Failed,
}

/// <summary>What an import did with one line that it did not create: rejected it (with the field and why) or left it unchanged.</summary>
public sealed record ImportLineReport(
    [property: Description("The line of the file, from 1 (in a CSV, the header is line 1; a record spanning lines is reported at its first).")] int Line,
    [property: Description("unchanged: the claim was there already (by id or externalId); rejected: the line breaks a rule, named by field and message."), MaxLength(10)] string Outcome,
    [property: Description("For a rejected line: the field, as a JSON path in NDJSON (evidence[0].stance) or a column in CSV (stance); null for the line as a whole."), MaxLength(200)] string? Field,
    [property: Description("For a rejected line: what is wrong."), MaxLength(1000)] string? Message,
    [property: Description("For an unchanged line: the claim that was there already.")] Guid? ClaimId);

/// <summary>An import job and its report.</summary>
public sealed record ImportJob(
    Guid Id,
    ImportState State,
    [property: Description("ndjson or csv."), MaxLength(6)] string Format,
    [property: Description("true: the lines were checked and reported, nothing was written.")] bool DryRun,
    [property: MaxLength(100)] string? CreatedBy,
    DateTime StartedAt,
    DateTime? FinishedAt,
    [property: Description("Lines read from the body so far (blank lines are not counted).")] int Read,
    [property: Description("Lines settled so far: every line up to this one was created, left unchanged or rejected as reported here, and none after it was written.")] int SettledThrough,
    [property: Description("Claims created (in a dry run: that would be).")] int Written,
    [property: Description("Lines whose claim was there already, by id or externalId: nothing was changed.")] int Unchanged,
    [property: Description("Lines refused, with at least one entry each in errors.")] int Rejected,
    [property: Description("Sources created because no source matched by id, externalId, or name and kind.")] int SourcesCreated,
    [property: Description("Lines settled per second since the start.")] double LinesPerSecond,
    [property: Description("Why the job stopped early, when it failed."), MaxLength(1000)] string? Failure,
    [property: Description("The rejected lines' errors on this page of the report, by line then field. A job stops after Imports:MaxRejected rejected lines."), MaxLength(ImportsApi.ReportPage)] IReadOnlyList<ImportLineReport> Errors,
    [property: Description("The unchanged lines on this page of the report, with the claim each found."), MaxLength(ImportsApi.ReportPage)] IReadOnlyList<ImportLineReport> UnchangedLines,
    [property: Description("When the report goes on past this page: the reportAfter that reads the next page (GET /imports/{id}?reportAfter=...); null when this page ends it.")] int? ReportNext);

/// <summary>
/// One NDJSON line: a claim as the NDJSON export writes it (GET /claims with Accept:
/// application/x-ndjson), every member optional but statement. Members the export writes and an
/// import has no use for (evidence claimId and originSourceId, the claim's independentOrigins,
/// origins and canonicalClaimId) are accepted and ignored.
/// </summary>
public sealed record ImportLine(
    Guid? Id,
    string? ExternalId,
    string? Statement,
    string? Summary,
    string? Language,
    IReadOnlyList<string>? Tags,
    DateOnly? FirstReportedOn,
    ClaimStatus? Status,
    string? StatusNote,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? UpdatedAt,
    int? Version,
    string? CreatedBy,
    IReadOnlyList<ImportEvidence>? Evidence,
    IReadOnlyList<ImportStatusChange>? History,
    [property: Description("Written by the export of GET /claims/{id}'s answer; derived, so ignored.")] JsonElement? IndependentOrigins = null,
    [property: Description("Written by the export of GET /claims/{id}'s answer; derived, so ignored.")] JsonElement? Origins = null,
    [property: Description("Written by the export for a claim recorded as a duplicate (with includeDuplicates=true); relations between claims are not imported, so ignored: the claim is imported as a claim of its own.")] Guid? CanonicalClaimId = null);

/// <summary>An evidence item of an imported claim: its source by id, externalId, or name and kind.</summary>
public sealed record ImportEvidence(
    Guid? Id,
    Guid? ClaimId,
    ImportSource? Source,
    Guid? SourceId,
    Stance? Stance,
    string? Quote,
    string? Url,
    DateTimeOffset? PublishedAt,
    string? Note,
    int? Credibility,
    DateTimeOffset? CreatedAt,
    string? CreatedBy,
    [property: Description("The sources the quoted source relays, nearest first, by id; each must exist or be described in via.")] IReadOnlyList<Guid>? ViaSourceIds = null,
    [property: Description("The same chain as objects, as the export writes it, each matched like source (id, externalId, or name and kind) and created when none matches.")] IReadOnlyList<ImportSource>? Via = null,
    [property: Description("Written by the export; derived from the chain, so ignored.")] Guid? OriginSourceId = null);

/// <summary>The source of an imported evidence item; created with these fields when none matches.</summary>
public sealed record ImportSource(Guid? Id, string? ExternalId, string? Name, SourceKind? Kind, Reliability? Reliability);

/// <summary>A past status change of an imported claim, as GET /claims/{id}/history gives it.</summary>
public sealed record ImportStatusChange(Guid? Id, ClaimStatus? FromStatus, ClaimStatus? ToStatus, string? Note, DateTimeOffset? ChangedAt, string? ChangedBy);
