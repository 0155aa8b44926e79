using Microsoft.Net.Http.Headers;

namespace Claims.Api.Exports;

/// <summary>What a list answers, as the request's Accept header chooses.</summary>
public enum ExportFormat
{
    /// <summary>The JSON page (application/json, */*, no Accept, or only types the API does not speak).</summary>
    Page,
    /// <summary>application/x-ndjson: every matching row, one JSON object per line.</summary>
    Ndjson,
    /// <summary>text/csv: every matching row, RFC 4180 with a header row.</summary>
    Csv,
}

public static class ExportFormats
{
    public const string Ndjson = "application/x-ndjson";
    public const string Csv = "text/csv";

    /// <summary>
    /// The format with the highest q among those Accept names, the first named on a tie. JSON
    /// (application/json, application/*, */*) is the page; a header that names none of the three
    /// gets the page too, as every other endpoint answers JSON whatever Accept says.
    /// </summary>
    public static ExportFormat Negotiate(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var types))
        {
            return ExportFormat.Page;
        }

        ExportFormat? best = null;
        var bestQuality = 0.0;
        foreach (var type in types)
        {
            var quality = type.Quality ?? 1.0;
            if (quality <= bestQuality || Of(type) is not { } format)
            {
                continue;
            }

            best = format;
            bestQuality = quality;
        }

        return best ?? ExportFormat.Page;
    }

    public static string ContentType(this ExportFormat format) => format switch
    {
        ExportFormat.Ndjson => $"{Ndjson}; charset=utf-8",
        // RFC 4180's own parameter: the first line names the columns.
        ExportFormat.Csv => $"{Csv}; charset=utf-8; header=present",
        _ => "application/json; charset=utf-8",
    };

    private static ExportFormat? Of(MediaTypeHeaderValue type) => type.MediaType.Value?.ToLowerInvariant() switch
    {
        Ndjson => ExportFormat.Ndjson,
        Csv => ExportFormat.Csv,
        "application/json" or "application/*" or "*/*" => ExportFormat.Page,
        _ => null,
    };
}

/// <summary>
/// A line of the NDJSON export of claims: the claim as GET /claims/{id} gives it, with its
/// externalId and its status history, so that POST /imports restores it as it was.
/// </summary>
public sealed record ClaimLine(
    Guid Id,
    [property: System.ComponentModel.Description("The claim's id in the system it was imported from, if any.")] string? ExternalId,
    string Statement,
    string? Summary,
    string Language,
    IReadOnlyList<string> Tags,
    DateOnly? FirstReportedOn,
    Claims.ClaimStatus Status,
    string? StatusNote,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    int Version,
    string? CreatedBy,
    IReadOnlyList<Evidence.EvidenceItem> Evidence,
    IReadOnlyList<Verification.StatusChange> History,
    [property: System.ComponentModel.Description("Set for a claim recorded as a duplicate (exported with includeDuplicates=true): its canonical, as GET /claims/{id} gives it.")]
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    Guid? CanonicalClaimId = null);
