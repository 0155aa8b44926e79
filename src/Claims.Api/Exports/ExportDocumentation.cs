using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Claims.Api.Exports;

/// <summary>Marks a list that streams as CSV and NDJSON; <see cref="PageToo"/> when it answers a JSON page as well.</summary>
public sealed record ExportMarker(bool PageToo);

public static class ExportConventions
{
    /// <summary>Declares the export media types on the operation (see <see cref="ExportDocumentation"/>).</summary>
    public static RouteHandlerBuilder Exports(this RouteHandlerBuilder builder, bool pageToo) => builder.WithMetadata(new ExportMarker(pageToo));
}

/// <summary>Documents the 200 of an exporting list: text/csv and application/x-ndjson beside (or instead of) its JSON page.</summary>
public sealed class ExportDocumentation : IOperationFilter
{
    private const string Streamed =
        "Every matching row in one streamed answer, whatever limit would be (limit and cursor are refused with 400), newest first in the list's time order "
        + "(q filters without ranking; sort=relevance is refused).";

    private const string Formats =
        "application/x-ndjson: one JSON object per line (LF), each as the JSON answers give that item (a claim with its evidence, as GET /claims/{id}). "
        + "text/csv: RFC 4180, UTF-8 without a byte order mark, CRLF line ends, a header row naming the columns; tags joined with ';'; an empty field is an absent value.";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<ExportMarker>().FirstOrDefault() is not { } marker)
        {
            return;
        }

        operation.Responses ??= [];
        if (!operation.Responses.TryGetValue("200", out var found) || found is not OpenApiResponse ok)
        {
            ok = new OpenApiResponse();
            operation.Responses["200"] = ok;
        }

        ok.Content ??= new Dictionary<string, OpenApiMediaType>();
        if (!marker.PageToo)
        {
            ok.Content.Clear();
        }

        // No schema: the body is text of no bounded length, which a string schema would have to give.
        ok.Description = (marker.PageToo ? $"A page as JSON; with Accept: {ExportFormats.Csv} or {ExportFormats.Ndjson}, an export. " : "An export. ")
            + Streamed + " " + Formats;
        ok.Content[ExportFormats.Ndjson] = new OpenApiMediaType();
        ok.Content[ExportFormats.Csv] = new OpenApiMediaType();
    }
}
