using Claims.Api.Data;
using Claims.Api.Errors;
using Microsoft.AspNetCore.Http.Timeouts;

namespace Claims.Api.Http;

/// <summary>
/// Every request has a deadline, whatever the database does. At the deadline the framework's
/// request-timeouts middleware cancels the request's token, which every query receives, so the
/// handler's database work stops and the request answers 503. A write whose COMMIT was already
/// on its way answers 504 instead (see <see cref="Commit"/>).
/// </summary>
public static class RequestDeadline
{
    /// <summary>
    /// After the deadline Npgsql still needs up to the connect timeout to give up on a silent
    /// connection (see <see cref="Database.WithTimeouts"/>); the two together stay within the
    /// 6 s that every answer is promised in.
    /// </summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(4);

    public static IServiceCollection AddRequestDeadline(this IServiceCollection services) =>
        services.AddRequestTimeouts(options => options.DefaultPolicy = new RequestTimeoutPolicy
        {
            Timeout = Timeout,
            TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
            WriteTimeoutResponse = WriteAsync,
        });

    /// <summary>
    /// The request-timeouts middleware, followed by a relay that cancels the endpoint's token on a
    /// thread of its own. Npgsql cancels a command by first asking the server to, over a new
    /// connection, synchronously inside the token's callback; against a silent server that holds
    /// the cancelling thread for the connect timeout. Cancelled straight from the timer's
    /// thread-pool thread, seventeen stalled requests took as many pool threads at once: in the
    /// full test suite they answered 6.0 to 7.0 s after they started, in steps of the pool's
    /// thread injection, instead of 5.2 s at most.
    /// </summary>
    public static IApplicationBuilder UseRequestDeadline(this IApplicationBuilder app)
    {
        // The connection's own token, before the deadline is linked into RequestAborted: what a
        // finished answer is written under (WithWholeAnswers).
        app.Use((http, next) =>
        {
            http.Features.Set(new ConnectionAborted(http.RequestAborted));
            return next(http);
        });
        app.UseRequestTimeouts();
        return app.Use(RelayAsync);
    }

    /// <summary>
    /// A handler that returned has its answer written whole, even when the deadline passed just
    /// after: a write whose COMMIT got through before it must not answer 201 with an empty body
    /// (the framework writes JSON under RequestAborted and drops a cancelled write silently), and a
    /// read that finished has its answer. The add-on goes first, so that it wraps every result.
    /// </summary>
    public static TBuilder WithWholeAnswers<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (invocation, next) =>
        {
            var answer = await next(invocation);
            return answer is IResult result ? new WholeAnswer(result) : answer;
        });

    private sealed record ConnectionAborted(CancellationToken Token);

    private sealed class WholeAnswer(IResult answer) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            if (http.Features.Get<ConnectionAborted>() is { } connection)
            {
                http.RequestAborted = connection.Token;
            }

            return answer.ExecuteAsync(http);
        }
    }

    private static async Task RelayAsync(HttpContext http, RequestDelegate next)
    {
        var deadline = http.RequestAborted;
        if (!deadline.CanBeCanceled)
        {
            await next(http);
            return;
        }

        // Not disposed: it has no timer, and its cancelling thread may outlive the request.
        var relay = new CancellationTokenSource();
        var client = http.Features.Get<ConnectionAborted>()?.Token ?? CancellationToken.None;
        var registration = deadline.UnsafeRegister(static state =>
        {
            var (relay, client) = ((CancellationTokenSource, CancellationToken))state!;
            // A client that went away is cancelled where it is noticed: a thread for each would
            // let a client that resets requests make threads as fast as it sends.
            if (client.IsCancellationRequested)
            {
                CancelQuietly(relay);
                return;
            }

            new Thread(CancelQuietly) { IsBackground = true, Name = "Request cancellation" }.Start(relay);
        }, (relay, client));
        http.RequestAborted = relay.Token;
        try
        {
            await next(http);
        }
        finally
        {
            await registration.DisposeAsync();
            http.RequestAborted = deadline;
        }
    }

    private static void CancelQuietly(object? relay)
    {
        try
        {
            ((CancellationTokenSource)relay!).Cancel();
        }
        catch (AggregateException)
        {
            // A callback failed while cancelling; the request sees its own exception, and on a
            // thread of its own this one would end the process.
        }
    }

    private static async Task WriteAsync(HttpContext http)
    {
        http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RequestDeadline))
            .LogWarning("{Method} {Path} passed its {Seconds} s deadline", http.Request.Method, http.Request.Path, Timeout.TotalSeconds);
        await ProblemMapping.WriteAsync(http, ProblemMapping.DeadlinePassed(), exception: null);
    }
}
