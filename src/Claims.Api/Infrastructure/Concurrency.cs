using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using Npgsql;
using Polly;
using Polly.Retry;

namespace Claims.Api.Infrastructure;

/// <summary>The If-Match header of a request: the versions the client last saw.</summary>
public sealed record IfMatch(bool Any, IReadOnlyList<string> Tags)
{
    /// <summary>The tags that are row versions ("7"), for SQL's <c>version = ANY(@Versions)</c>.</summary>
    public int[] Versions => [.. Tags.Select(t => int.TryParse(t.Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1).Where(v => v > 0)];

    public bool Matches(string etag) => Any || Tags.Contains(etag, StringComparer.Ordinal);

    /// <summary>Null when the request sent no If-Match; then the write must not happen (428).</summary>
    public static IfMatch? Read(HttpRequest request)
    {
        if (request.Headers.IfMatch.Count == 0)
        {
            return null;
        }

        if (!EntityTagHeaderValue.TryParseList(request.Headers.IfMatch, out var tags))
        {
            return new IfMatch(false, []);
        }

        // If-Match compares strongly: a weak tag never matches.
        return new IfMatch(
            tags.Any(t => t.Equals(EntityTagHeaderValue.Any)),
            [.. tags.Where(t => !t.IsWeak).Select(t => t.Tag.ToString())]);
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

    public static ProblemHttpResult PreconditionRequired(string what) => TypedResults.Problem(
        statusCode: StatusCodes.Status428PreconditionRequired,
        title: "If-Match is required.",
        detail: $"Changing a {what} needs the ETag of your last read of it in If-Match, so that you cannot overwrite a change you have not seen.");

    public static ProblemHttpResult PreconditionFailed(string what, string currentETag) => TypedResults.Problem(
        statusCode: StatusCodes.Status412PreconditionFailed,
        title: $"The {what} has changed since you read it.",
        detail: $"Its current ETag is {currentETag}. Read it again, reapply your change, and send If-Match: {currentETag}.",
        extensions: new Dictionary<string, object?> { ["currentETag"] = currentETag });
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
