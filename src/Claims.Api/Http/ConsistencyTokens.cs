using Claims.Api.Data;
using Claims.Api.Errors;
using Npgsql;
using NpgsqlTypes;

namespace Claims.Api.Http;

/// <summary>
/// Read-your-writes across a read replica. While one is configured, every successful write answer
/// carries <c>Consistency-Token</c>, the primary's WAL position after the commit; a read that
/// sends it back is answered from a state that holds the write (<see cref="Reads"/>). The token is
/// opaque to clients; a malformed one is 400, since a client that sent one expects its write to
/// be seen and would otherwise be answered without that promise.
/// </summary>
public static class ConsistencyTokens
{
    public const string Header = "Consistency-Token";

    private static readonly object ItemKey = new();

    /// <summary>The position the caller sent, if any.</summary>
    public static NpgsqlLogSequenceNumber? Sent(HttpContext http) =>
        http.Items.TryGetValue(ItemKey, out var sent) ? (NpgsqlLogSequenceNumber)sent! : null;

    public static IApplicationBuilder UseConsistencyTokens(this IApplicationBuilder app)
    {
        var reads = app.ApplicationServices.GetRequiredService<Reads>();
        return app.Use(async (context, next) =>
        {
            if (context.Request.Headers.TryGetValue(Header, out var sent))
            {
                if (sent.Count != 1 || !NpgsqlLogSequenceNumber.TryParse(sent[0] ?? "", out var position))
                {
                    context.Response.StatusCode = StatusCodes.Status400BadRequest;
                    await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = context,
                        ProblemDetails = ProblemTypes.InvalidRequest.Details(
                            $"{Header} must be sent once, as a write answer gave it (such as 0/16B3748); send none to read without waiting for a write."),
                    });
                    return;
                }

                context.Items[ItemKey] = position;
            }

            if (reads.HasReplica && !ReadOnlyEndpoints.IsRead(context))
            {
                context.Response.OnStarting(static async state =>
                {
                    var (http, reads) = ((HttpContext, Reads))state;
                    if (http.Response.StatusCode is >= 200 and < 300)
                    {
                        await AddAsync(http, reads);
                    }
                }, (context, reads));
            }

            await next(context);
        });
    }

    private static async Task AddAsync(HttpContext http, Reads reads)
    {
        try
        {
            // The write committed before its answer started, so any position read now covers it.
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
            bound.CancelAfter(TimeSpan.FromSeconds(1));
            http.Response.Headers[Header] = (await reads.PositionAsync(bound.Token)).ToString();
        }
        catch (Exception e)
        {
            // Whatever went wrong (the database, a shutdown disposing the pool): the write stands,
            // and without a token its writer may read the replica's past, as any reader without
            // one may. Failing a committed write instead would invite a second one.
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ConsistencyTokens))
                .LogWarning(e, "Could not read the WAL position for the Consistency-Token of a write");
        }
    }
}
