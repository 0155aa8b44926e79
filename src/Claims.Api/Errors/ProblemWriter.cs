using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;

using Microsoft.Extensions.Options;

namespace Claims.Api.Errors;

/// <summary>
/// Writes every problem the same way, whoever produced it (a handler, the exception handler, the
/// status code pages, authentication, the rate limiter): application/problem+json with a type, a
/// title and the trace id. The framework's own writer steps aside when the client's Accept names
/// neither JSON nor */*, and what then went out had no trace id, or was plain text. The API speaks
/// only JSON, so a client that asks for XML or HTML still gets the problem, complete.
/// </summary>
public sealed class ProblemWriter(IOptions<JsonOptions> json) : IProblemDetailsWriter
{
    public const string ContentType = "application/problem+json";

    // RFC 9110 names most statuses; 428 and 429 come from RFC 6585.
    private static readonly Dictionary<int, string> Types = new()
    {
        [400] = "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        [401] = "https://tools.ietf.org/html/rfc9110#section-15.5.2",
        [403] = "https://tools.ietf.org/html/rfc9110#section-15.5.4",
        [404] = "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        [405] = "https://tools.ietf.org/html/rfc9110#section-15.5.6",
        [406] = "https://tools.ietf.org/html/rfc9110#section-15.5.7",
        [408] = "https://tools.ietf.org/html/rfc9110#section-15.5.9",
        [409] = "https://tools.ietf.org/html/rfc9110#section-15.5.10",
        [411] = "https://tools.ietf.org/html/rfc9110#section-15.5.12",
        [412] = "https://tools.ietf.org/html/rfc9110#section-15.5.13",
        [413] = "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        [414] = "https://tools.ietf.org/html/rfc9110#section-15.5.15",
        [415] = "https://tools.ietf.org/html/rfc9110#section-15.5.16",
        [422] = "https://tools.ietf.org/html/rfc9110#section-15.5.21",
        [428] = "https://tools.ietf.org/html/rfc6585#section-3",
        [429] = "https://tools.ietf.org/html/rfc6585#section-4",
        [431] = "https://tools.ietf.org/html/rfc6585#section-5",
        [500] = "https://tools.ietf.org/html/rfc9110#section-15.6.1",
        [503] = "https://tools.ietf.org/html/rfc9110#section-15.6.4",
        [504] = "https://tools.ietf.org/html/rfc9110#section-15.6.5",
    };

    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        problem.Status ??= http.Response.StatusCode;
        problem.Type ??= Types.GetValueOrDefault(problem.Status.Value, "about:blank");
        problem.Title ??= Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(problem.Status.Value);
        problem.Extensions.TryAdd("traceId", Activity.Current?.Id ?? http.TraceIdentifier);

        http.Response.ContentType = ContentType;
        // Not under RequestAborted: after a request's deadline that token is cancelled, and the
        // problem saying so must still be written.
        return new ValueTask(JsonSerializer.SerializeAsync(http.Response.Body, problem, problem.GetType(), json.Value.SerializerOptions));
    }
}
