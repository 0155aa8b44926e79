using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;

using Microsoft.Extensions.Options;

namespace Claims.Api.Errors;

/// <summary>
/// Writes every problem the same way, whoever produced it (a handler, the exception handler, the
/// status code pages, authentication, the rate limiter): application/problem+json with its
/// catalogue type and that type's title, the request id and the trace id. The framework's own
/// writer steps aside when the client's Accept names neither JSON nor */*, and what then went out
/// had no trace id, or was plain text. The API speaks only JSON, so a client that asks for XML or
/// HTML still gets the problem, complete.
/// </summary>
public sealed class ProblemWriter(IOptions<JsonOptions> json) : IProblemDetailsWriter
{
    public const string ContentType = "application/problem+json";

    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        problem.Status ??= http.Response.StatusCode;
        // The framework fills in its RFC 9110 links and reason phrases; a problem that names no
        // catalogue type is read by its status alone, and every type keeps its one title.
        if ((ProblemTypes.FromUri(problem.Type) ?? ProblemTypes.ForStatus(problem.Status.Value)) is { } type)
        {
            problem.Type = type.Uri;
            problem.Title = type.Title;
        }
        else
        {
            problem.Type = "about:blank";
            problem.Title = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(problem.Status.Value);
        }

        problem.Extensions["requestId"] = http.TraceIdentifier;
        problem.Extensions.TryAdd("traceId", Activity.Current?.Id ?? http.TraceIdentifier);

        http.Response.ContentType = ContentType;
        // Not under RequestAborted: after a request's deadline that token is cancelled, and the
        // problem saying so must still be written.
        return new ValueTask(JsonSerializer.SerializeAsync(http.Response.Body, problem, problem.GetType(), json.Value.SerializerOptions));
    }
}
