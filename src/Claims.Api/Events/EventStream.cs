using System.ComponentModel.DataAnnotations;
using System.ComponentModel;
using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Claims.Api.Auth;
using Claims.Api.Errors;
using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Api.OpenApi;
using Claims.Api.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Npgsql;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Claims.Api.Events;

/// <summary>The query of GET /events/stream: the feed's filters, and where to start.</summary>
public sealed record EventStreamQuery(
    [property: Description("Only events after this position: the id of the last event you saw (default 0: from the oldest event kept). Last-Event-ID wins when both are sent. A position below what the retention purge deleted is refused with 410 events-purged."), Range(0, long.MaxValue)][FromQuery(Name = "after")] long? After,
    [property: Description("Only events of these types (repeat the parameter)."), EnumValues(typeof(EventType))][FromQuery(Name = "type")] string[]? Type,
    [property: Description("Only events of this claim: the claim's own events and its evidence's.")][FromQuery(Name = "claimId")] Guid? ClaimId,
    [property: Description("The id of the last event received, as EventSource sends it when it reconnects; wins over after, being newer than the URL it reconnects to."), Range(0, long.MaxValue)][FromHeader(Name = "Last-Event-ID")] long? LastEventId,
    [property: Description("true: only events that commit after the stream opens, for a page that has just read what it shows (after must then be absent; Last-Event-ID still wins on a reconnection).")][FromQuery(Name = "fromNow")] bool? FromNow = null)
{
    public long Position => LastEventId ?? After ?? 0;

    /// <summary>Whether the stream starts at the newest event rather than at a position.</summary>
    public bool StartsNow => FromNow == true && LastEventId is null;

    /// <summary>The filter, as the feed builds it; call only once the query is valid.</summary>
    public EventFilter Filter => new EventQuery(After, Type, ClaimId, Limit: null).Filter;
}

public sealed class EventStreamQueryValidator : AbstractValidator<EventStreamQuery>
{
    public EventStreamQueryValidator()
    {
        RuleFor(q => q.After).GreaterThanOrEqualTo(0);
        RuleFor(q => q.LastEventId).GreaterThanOrEqualTo(0);
        RuleFor(q => q.After).Null().When(q => q.FromNow == true)
            .WithMessage("Send either after (a position) or fromNow=true (the newest position), not both.");
        RuleForEach(q => q.Type).OneOf<EventStreamQuery, EventType>();
        RuleFor(q => q.Type!.Length).LessThanOrEqualTo(Enum.GetValues<EventType>().Length).When(q => q.Type is not null).OverridePropertyName("type")
            .WithMessage(q => $"At most {Enum.GetValues<EventType>().Length} types, one of each; {q.Type!.Length} were sent.");
    }
}

public sealed class EventStreamOptions
{
    /// <summary>How long a stream stays silent before it sends a heartbeat, so that proxies keep the connection.</summary>
    public int HeartbeatSeconds { get; set; } = 15;

    /// <summary>How often a waiting stream reads the table even without a notice: the longest a lost notice delays an event.</summary>
    public int CatchUpSeconds { get; set; } = 2;

    /// <summary>
    /// Live streams one caller (an API key; without one, an address) may hold open on this
    /// instance at once; another is refused with 429 too-many-streams. The default, ten, leaves
    /// room for a few dashboards or browser tabs per key, and is a hundredth of the default
    /// <see cref="MaxStreams"/>: no one key fills an instance.
    /// </summary>
    public int MaxStreamsPerCaller { get; set; } = 10;

    /// <summary>
    /// Live streams this instance holds open at once; another is refused with 503 streams-full and
    /// Retry-After. A waiting stream costs a request's memory and one batch at most, no connection.
    /// </summary>
    public int MaxStreams { get; set; } = 1000;

    /// <summary>How many streams read the events table at once; the others wait their turn, holding no connection.</summary>
    public int MaxConcurrentStreamReads { get; set; } = 8;
}

/// <summary>
/// GET /events/stream: the feed as Server-Sent Events. Each stream reads the events table after its
/// own position, a bounded batch at a time on a connection it returns at once, writes what it read,
/// and when it has caught up waits for this instance's <see cref="EventNotifications"/> (or its
/// catch-up interval) before reading again. Nothing is queued per subscriber: a slow client only
/// slows its own loop (the socket's backpressure holds its writes), a lost notice only delays.
/// </summary>
public static class EventStream
{
    public const string Path = "/events/stream";

    /// <summary>The SSE event type of a heartbeat; its data is empty, so a browser's EventSource never dispatches it.</summary>
    public const string Heartbeat = "heartbeat";

    /// <summary>The retry field of the heartbeat that ends a stream when the instance shuts down.</summary>
    public static readonly TimeSpan RetryOnShutdown = TimeSpan.FromSeconds(1);

    /// <summary>Events read per round trip: what one stream holds in memory at most.</summary>
    public const int BatchSize = 100;

    public static IServiceCollection AddEventStream(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EventStreamOptions>().Bind(configuration.GetSection("Events"))
            .Validate(o => o.HeartbeatSeconds is >= 1 and <= 3600, "Events:HeartbeatSeconds must be between 1 and 3600.")
            .Validate(o => o.CatchUpSeconds is >= 1 and <= 3600, "Events:CatchUpSeconds must be between 1 and 3600.")
            .Validate(o => o.MaxStreams is >= 1 and <= 100_000, "Events:MaxStreams must be between 1 and 100000.")
            .Validate(o => o.MaxStreamsPerCaller >= 1 && o.MaxStreamsPerCaller <= o.MaxStreams, "Events:MaxStreamsPerCaller must be between 1 and Events:MaxStreams.")
            .Validate(o => o.MaxConcurrentStreamReads is >= 1 and <= 1000, "Events:MaxConcurrentStreamReads must be between 1 and 1000.")
            .ValidateOnStart();
        services.AddSingleton<EventNotifications>();
        services.AddHostedService(provider => provider.GetRequiredService<EventNotifications>());
        services.ConfigureSwaggerGen(options => options.OperationFilter<EventStreamDocumentation>());
        return services;
    }

    public static IEndpointConventionBuilder MapEventStream(this IEndpointRouteBuilder app) =>
        app.MapGet(Path, StreamEvents).WithName(nameof(StreamEvents)).Allow(Role.Reader).WithTags("Events")
            .WithMetadata(new EventStreamMarker())
            .WithSummary("Receive events live as Server-Sent Events, from a position on")
            .WithDescription(EventStreamDocumentation.Description)
            .ProducesEventsPurged()
            // A stream lasts as long as its client stays; it ends on its own only when the app stops.
            .DisableRequestTimeout();

    /// <summary>Retry-After of a refused stream: a caller over its cap waits for one of its own streams to end, which takes longer.</summary>
    private const int CallerRetrySeconds = 30, InstanceRetrySeconds = 5;

    public static async Task<Results<ServerSentEventsResult<object>, ProblemHttpResult>> StreamEvents(
        [AsParameters] EventStreamQuery query,
        NpgsqlDataSource db,
        EventNotifications notifications,
        IOptions<EventStreamOptions> options,
        IHostApplicationLifetime lifetime,
        ILoggerFactory loggers,
        HttpContext http)
    {
        // Admitted before anything is read, so that a refused stream costs the database nothing.
        var counted = notifications.TrySubscribe(Caller.KeyId(http.User) ?? "address:" + http.Connection.RemoteIpAddress, out var refusedBy);
        if (counted is null)
        {
            return Refuse(refusedBy, options.Value, http);
        }

        var stream = new Subscription(db, notifications, options.Value, loggers.CreateLogger(typeof(EventStream)), query.Filter, http.TraceIdentifier);
        Batch first;
        long position;
        try
        {
            // Before the answer starts, so that a failure is a problem (503), and a resume point
            // below the purge a 410; either frees the slot at once (a read retried runs this again).
            position = query.StartsNow ? await NowAsync(db, http.RequestAborted) : query.Position;
            first = await stream.FirstReadAsync(position, http.RequestAborted);
        }
        catch
        {
            counted.Dispose();
            throw;
        }

        if (first.Read.Purged is { } purged)
        {
            counted.Dispose();
            return TypedResults.Problem(purged.Problem());
        }

        // Counted until the request ends, however the stream ends.
        http.Response.RegisterForDispose(counted);
        // The framework flushes each event and says no-cache; this keeps nginx from buffering them.
        http.Response.Headers["X-Accel-Buffering"] = "no";
        return TypedResults.ServerSentEvents(stream.ReadAsync(position, first, lifetime.ApplicationStopping, http.RequestAborted));
    }

    /// <summary>
    /// The position of "now": events committed before the stream opened may still wait in the
    /// outbox for their position (the sequencer numbers them a moment after commit), so they are
    /// numbered first; otherwise a page that read a claim and then opened its stream would be sent
    /// the write it has already shown. Bounded: behind a backlog of more than ten batches, the
    /// oldest of it may still come through.
    /// </summary>
    private static async Task<long> NowAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        for (var run = 0; run < 10 && await EventSequencer.SequenceAsync(db, notify: true, ct) >= EventSequencer.BatchSize; run++)
        {
        }

        return await EventStore.NewestPositionAsync(db, ct);
    }

    private static ProblemHttpResult Refuse(StreamCap cap, EventStreamOptions options, HttpContext http)
    {
        if (cap == StreamCap.Caller)
        {
            http.Response.Headers.RetryAfter = CallerRetrySeconds.ToString(CultureInfo.InvariantCulture);
            var who = Caller.Name(http.User) is { } name ? $"The key '{name}'" : "This address";
            return ProblemTypes.TooManyStreams.Result(
                $"{who} already holds {options.MaxStreamsPerCaller} live streams on this instance, the most one caller may. Close one before opening another, or retry in {CallerRetrySeconds} s.");
        }

        http.Response.Headers.RetryAfter = InstanceRetrySeconds.ToString(CultureInfo.InvariantCulture);
        return ProblemTypes.StreamsFull.Result(
            $"This instance already holds {options.MaxStreams} live streams, the most it serves. Retry in {InstanceRetrySeconds} s; read GET /events meanwhile.");
    }

    /// <summary>A read of the table, and the wake-up taken before it: an event committed while it ran still ends the wait after it.</summary>
    private sealed record Batch(Task Wake, EventRead Read);

    /// <summary>One client's stream: where it is, and what it waits on. Holds at most one batch.</summary>
    private sealed class Subscription(NpgsqlDataSource db, EventNotifications notifications, EventStreamOptions options, ILogger logger, EventFilter filter, string requestId)
    {
        /// <summary>The first batch; anything that fails is thrown, for the answer to say so.</summary>
        public async Task<Batch> FirstReadAsync(long after, CancellationToken ct)
        {
            var wake = notifications.Next;
            return new Batch(wake, await ReadInTurnAsync(after, ct));
        }

        public async IAsyncEnumerable<SseItem<object>> ReadAsync(long after, Batch first, CancellationToken stopping, [EnumeratorCancellation] CancellationToken aborted)
        {
            // Ends at the app's stopping too, so that open streams never hold up a shutdown: the
            // client reconnects (to another instance) with Last-Event-ID and loses nothing.
            using var ending = CancellationTokenSource.CreateLinkedTokenSource(stopping, aborted);
            var ct = ending.Token;
            var heartbeat = TimeSpan.FromSeconds(options.HeartbeatSeconds);
            var catchUp = TimeSpan.FromSeconds(options.CatchUpSeconds);
            var (wake, read) = first;
            var opening = true;
            var quietSince = DateTime.UtcNow;
            while (true)
            {
                if (read.Purged is { } purged)
                {
                    // Rare (retention is days): the client fell behind a purge while connected.
                    // Reading on would skip; it ends instead, saying what a 410 would say, and
                    // the client's reconnection with Last-Event-ID gets that 410.
                    logger.LogWarning("Ended an event stream at position {Position}: events up to {PurgedThrough} were purged before it read them", after, purged.Through);
                    var problem = purged.Problem();
                    problem.Extensions["requestId"] = requestId;
                    yield return new SseItem<object>(problem, ProblemTypes.EventsPurged.Slug);
                    yield break;
                }

                foreach (var stored in read.Events)
                {
                    after = stored.Position;
                    var change = stored.ToChangeEvent();
                    yield return new SseItem<object>(change, change.Type.ToName()) { EventId = change.Id };
                }

                var full = read.Events.Count == BatchSize;
                if (read.Events.Count > 0)
                {
                    opening = false;
                    quietSince = DateTime.UtcNow;
                }
                else if (opening || DateTime.UtcNow - quietSince >= heartbeat)
                {
                    // The first one also sends the answer's headers at once, so that the client
                    // knows it is subscribed before anything happens.
                    opening = false;
                    quietSince = DateTime.UtcNow;
                    yield return new SseItem<object>(null!, Heartbeat);
                }

                if (!full)
                {
                    var untilHeartbeat = heartbeat - (DateTime.UtcNow - quietSince);
                    if (!await WaitAsync(wake, untilHeartbeat < catchUp ? untilHeartbeat : catchUp, ct))
                    {
                        break;
                    }
                }

                // Taken before the read: an event that commits while the read runs still ends the wait after it.
                wake = notifications.Next;
                if (await TryReadAsync(after, ct) is not { } next)
                {
                    break;
                }

                read = next;
            }

            if (stopping.IsCancellationRequested && !aborted.IsCancellationRequested)
            {
                // The instance is shutting down: its last word tells the client to come back at
                // once rather than after its usual back-off, to another instance behind the
                // balancer, resuming with Last-Event-ID.
                yield return new SseItem<object>(null!, Heartbeat) { ReconnectionInterval = RetryOnShutdown };
            }
        }

        /// <summary>
        /// The next batch, in its turn, on a connection of its own, returned to the pool before the
        /// events are written; null when the stream is to end: the client left, the app is
        /// stopping, or the database failed (the client reconnects with Last-Event-ID and loses nothing).
        /// </summary>
        private async Task<EventRead?> TryReadAsync(long after, CancellationToken ct)
        {
            try
            {
                return await ReadInTurnAsync(after, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return null;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                logger.LogWarning(e, "Ended an event stream at position {Position}: the events could not be read ({Reason}); the client resumes from there", after, e.Message);
                return null;
            }
        }

        private async Task<EventRead> ReadInTurnAsync(long after, CancellationToken ct)
        {
            using var turn = await notifications.TakeReadTurnAsync(ct);
            return await EventStore.ReadAsync(db, filter, after, BatchSize, ct);
        }

        /// <summary>Waits for a notice or the timeout; false when the client left or the app is stopping.</summary>
        private static async Task<bool> WaitAsync(Task wake, TimeSpan timeout, CancellationToken ct)
        {
            try
            {
                await wake.WaitAsync(timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero, ct);
            }
            catch (TimeoutException)
            {
                // The catch-up read, or a heartbeat.
            }
            catch (OperationCanceledException)
            {
                return false;
            }

            return true;
        }
    }

    private sealed class EventStreamMarker;

    /// <summary>Documents the stream's answer as what it is, text/event-stream, instead of the framework's SseItem schema.</summary>
    public sealed class EventStreamDocumentation : IOperationFilter
    {
        public const string Description =
            "A text/event-stream that never ends by itself (curl -N). It starts with the events after `after` (or the Last-Event-ID header, which wins), "
            + "oldest first, then sends each new event as it commits, through any instance. Each event: `id` is its position, `event` its CloudEvents type "
            + "(claim.status_changed), `data` the CloudEvent as one item of GET /events gives it. "
            + "When nothing happens for a while (15 s by default), an `event: heartbeat` with empty data keeps proxies from closing the connection; "
            + "browsers' EventSource ignores it. Reconnect with Last-Event-ID to resume without loss. "
            + "Same filters as GET /events: `type` (repeatable) and `claimId`. "
            + "A resume point below what the retention purge deleted is refused with 410 (problem events-purged), and an open stream that falls behind a purge "
            + "ends with an `event: events-purged` whose data is that problem: resync, then resume with after=purgedThrough. "
            + "One API key holds at most Events:MaxStreamsPerCaller open streams per instance (10 by default; more: 429 too-many-streams), "
            + "and an instance at most Events:MaxStreams (1000; more: 503 streams-full, with Retry-After).";

        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            if (!context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<EventStreamMarker>().Any()
                || operation.Responses?.TryGetValue("200", out var found) != true || found is not OpenApiResponse ok)
            {
                return;
            }

            // The framework's metadata names SseItem<ChangeEvent> as the body, which is no schema
            // of what is sent; nothing else refers to the schema generated for it.
            foreach (var media in ok.Content?.Values ?? [])
            {
                if (media.Schema is OpenApiSchemaReference { Reference.Id: { } id })
                {
                    context.SchemaRepository.Schemas.Remove(id);
                }
            }

            ok.Description = "The stream of events, as text/event-stream.";
            ok.Content = new Dictionary<string, OpenApiMediaType>
            {
                ["text/event-stream"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.String,
                        // Per read: the stream itself has no end.
                        MaxLength = 1_000_000,
                        Description = "Server-Sent Events: `id: <position>`, `event: <type>`, `data: <CloudEvent JSON>`, a blank line.",
                    },
                },
            };

            Describe(operation, "429", "This API key already holds its most live streams on this instance (too-many-streams), or a rate limit was reached; Retry-After says when to try again.");
            Describe(operation, "503", "This instance holds all the live streams it can (streams-full), or the database is unavailable; Retry-After says when to try again.");
        }

        /// <summary>Says what a status means on this operation; the problem body and headers are the common ones, added elsewhere.</summary>
        private static void Describe(OpenApiOperation operation, string status, string description)
        {
            if (operation.Responses!.TryGetValue(status, out var response) && response is OpenApiResponse concrete)
            {
                concrete.Description = description;
            }
            else
            {
                operation.Responses[status] = new OpenApiResponse { Description = description };
            }
        }
    }
}
