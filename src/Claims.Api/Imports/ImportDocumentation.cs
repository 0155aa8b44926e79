using Claims.Api.Exports;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Claims.Api.Imports;

/// <summary>Marks POST /imports, whose body is a file read as a stream rather than a bound parameter, with its size limit.</summary>
public sealed record ImportBodyMarker(long? MaxRequestBodySize) : Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata;

/// <summary>
/// Documents POST /imports' body: NDJSON or CSV text up to Imports:MaxBytes. Declared here rather
/// than with Accepts, whose routing answers a 415 of its own before the handler can say which
/// media types to send.
/// </summary>
public sealed class ImportDocumentation(IOptions<ImportsOptions> options) : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (!context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<ImportBodyMarker>().Any())
        {
            return;
        }

        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = $"The file: one claim per line as the NDJSON export writes it, or a CSV with a header row. At most {options.Value.MaxBytes} bytes (Imports:MaxBytes).",
            Content = new Dictionary<string, OpenApiMediaType>
            {
                [ExportFormats.Ndjson] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = (int)Math.Min(int.MaxValue, options.Value.MaxBytes) } },
                [ExportFormats.Csv] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = (int)Math.Min(int.MaxValue, options.Value.MaxBytes) } },
            },
        };
    }
}
