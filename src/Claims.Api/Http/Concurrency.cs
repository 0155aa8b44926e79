using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Claims.Api.Json;
using Claims.Api.Errors;
using Claims.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using Npgsql;
using Polly;
using Polly.Retry;

namespace Claims.Api.Http;

/// <summary>
/// The If-Match of a conditional write: exactly one ETag, the one of the client's last read.
/// The header exists to prevent lost updates, so "*" (whatever is there) and a list of tags (any
/// of several versions) are refused: either would let a client overwrite a change it never saw.
/// </summary>
public sealed record IfMatch(string Tag, bool IsWeak)
{
    /// <summary>The row version the tag names ("7" is 7), or -1 when it names none, so that SQL's <c>version = @Version</c> matches nothing.</summary>
    public int Version => !IsWeak && int.TryParse(Tag.Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : -1;

    /// <summary>If-Match compares strongly: a weak tag never matches.</summary>
    public bool Matches(string etag) => !IsWeak && string.Equals(Tag, etag, StringComparison.Ordinal);

    /// <summary>The one tag of the request, or the 428 to answer when it has none, or more than one, or "*".</summary>
    public static bool TryRead(HttpRequest request, string what, [NotNullWhen(true)] out IfMatch? ifMatch, [NotNullWhen(false)] out ProblemHttpResult? refusal)
    {
        ifMatch = null;
        var values = request.Headers.IfMatch;
        if (values.Count == 0)
        {
            refusal = Versions.PreconditionRequired(what);
            return false;
        }

        if (!EntityTagHeaderValue.TryParseList(values, out var tags) || tags.Count != 1 || tags[0].Equals(EntityTagHeaderValue.Any))
        {
            refusal = Versions.PreconditionRequired(what,
                $"If-Match must hold exactly one ETag, the one of your last read of the {what}, such as \"3\" (quotes included). " +
                "\"*\" and lists of tags are refused: they would let the change overwrite a version you have not seen.");
            return false;
        }

        ifMatch = new IfMatch(tags[0].Tag.ToString(), tags[0].IsWeak);
        refusal = null;
        return true;
    }
}

public static class Versions
{
    /// <summary>The ETag of a claim or source: its row version, which every change increments.</summary>
    public static string ETag(int version) => $"\"{version.ToString(CultureInfo.InvariantCulture)}\"";

    /// <summary>A 201 that carries the new resource's ETag.</summary>
    public static Created<T> Created<T>(HttpContext http, string location, T body, int version)
    {
        http.Response.Headers.ETag = ETag(version);
        return TypedResults.Created(location, body);
    }

    /// <summary>A 200 that carries the resource's ETag.</summary>
    public static Ok<T> Ok<T>(HttpContext http, T body, int version)
    {
        http.Response.Headers.ETag = ETag(version);
        return TypedResults.Ok(body);
    }

    public static ProblemHttpResult PreconditionRequired(string what, string? detail = null) => ProblemTypes.IfMatchRequired.Result(
        detail ?? $"Changing a {what} needs the ETag of your last read of it in If-Match, so that you cannot overwrite a change you have not seen.");

    public static ProblemHttpResult PreconditionFailed(string what, string currentETag) => ProblemTypes.VersionMismatch.Result(
        $"The {what} has changed since you read it; its current ETag is {currentETag}. Read it again, reapply your change, and send If-Match: {currentETag}.",
        new Dictionary<string, object?> { ["currentETag"] = currentETag });
}

/// <summary>
/// Runs a whole transaction again when PostgreSQL reports a serialization failure or a deadlock:
/// it rolled back, so nothing was written and running it again is safe. A few tries, with jitter.
/// </summary>
public static class Transactions
{
    private static readonly ResiliencePipeline Pipeline = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<PostgresException>(e =>
                e.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected),
            MaxRetryAttempts = 3,
            Delay = TimeSpan.FromMilliseconds(20),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        })
        .Build();

    public static ValueTask<T> RetryOnConflictAsync<T>(Func<CancellationToken, ValueTask<T>> transaction, CancellationToken ct) =>
        Pipeline.ExecuteAsync(transaction, ct);
}
