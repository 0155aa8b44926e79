using Claims.Api.Http;
using Npgsql;
using Polly;
using Polly.Retry;

namespace Claims.Api.Data;

/// <summary>
/// Reads retry a transient database failure briefly: a read has no effect, so running its
/// handler again is safe, and a blip (a restarting server, a dropped pooled connection) costs a
/// little latency instead of an error. Writes are never retried here: after an unknown outcome a
/// retry could write twice; clients retry them with an Idempotency-Key.
/// </summary>
public static class ReadRetries
{
    private static readonly ResiliencePipeline Pipeline = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            // Not a full pool or a timeout: waiting again would only add to the load that caused it.
            ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(e =>
                e.IsTransient && e.InnerException is not TimeoutException && e is not PostgresException { SqlState: "40001" or "40P01" or "57014" }),
            MaxRetryAttempts = 2,
            Delay = TimeSpan.FromMilliseconds(100),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        })
        .Build();

    public static TBuilder WithReadRetries<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter((invocation, next) => ReadOnlyEndpoints.IsRead(invocation.HttpContext)
            ? Pipeline.ExecuteAsync(static async (state, _) => await state.next(state.invocation), (next, invocation), invocation.HttpContext.RequestAborted)
            : next(invocation));
        return builder;
    }
}
