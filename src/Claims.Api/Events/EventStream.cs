using System.ComponentModel.DataAnnotations;
using System.ComponentModel;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Claims.Api.Auth;
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
    [property: Description("Only events after this position: the id of the last event you saw (default 0, the oldest kept). Last-Event-ID wins when both are sent."), Range(0, long.MaxValue)][FromQuery(Name = "after")] long? After,
    [property: Description("Only events of these types (repeat the parameter)."), EnumValues(typeof(EventType))][FromQuery(Name = "type")] string[]? Type,
    [property: Description("Only events of this claim: the claim's own events and its evidence's.")][FromQuery(Name = "claimId")] Guid? ClaimId,
    [property: Description("The id of the last event received, as EventSource sends it when it reconnects; wins over after, being newer than the URL it reconnects to."), Range(0, long.MaxValue)][FromHeader(Name = "Last-Event-ID")] long? LastEventId)
{
    public long Position => LastEventId ?? After ?? 0;

    /// <summary>The filter, as the feed builds it; call only once the query is valid.</summary>
    public EventFilter Filter => new EventQuery(After, Type, ClaimId, Limit: null).Filter;
}

public sealed class EventStreamQueryValidator : AbstractValidator<EventStreamQuery>
{
    public EventStreamQueryValidator()
    {
        RuleFor(q => q.After).GreaterThanOrEqualTo(0);
        RuleFor(q => q.LastEventId).GreaterThanOrEqualTo(0);
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

    /// <summary>Events read per round trip: what one stream holds in memory at most.</summary>
    public const int BatchSize = 100;

    public static IServiceCollection AddEventStream(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EventStreamOptions>().Bind(configuration.GetSection("Events"))
            .Validate(o => o.HeartbeatSeconds is >= 1 and <= 3600, "Events:HeartbeatSeconds must be between 1 and 3600.")
            .Validate(o => o.CatchUpSeconds is >= 1 and <= 3600, "Events:CatchUpSeconds must be between 1 and 3600.")
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
            // A stream lasts as long as its client stays; it ends on its own only when the app stops.
            .DisableRequestTimeout();

    public static ServerSentEventsResult<ChangeEvent> StreamEvents(
        [AsParameters] EventStreamQuery query,
        NpgsqlDataSource db,
        EventNotifications notifications,
        IOptions<EventStreamOptions> options,
        IHostApplicationLifetime lifetime,
        ILoggerFactory loggers,
        HttpContext http)
    {
        // The framework flushes each event and says no-cache; this keeps nginx from buffering them.
        http.Response.Headers["X-Accel-Buffering"] = "no";
        var stream = new Subscription(db, notifications, options.Value, loggers.CreateLogger(typeof(EventStream)), query.Filter);
        return TypedResults.ServerSentEvents(stream.ReadAsync(query.Position, lifetime.ApplicationStopping, http.RequestAborted));
    }

    /// <summary>One client's stream: where it is, and what it waits on. Holds at most one batch.</summary>
    private sealed class Subscription(NpgsqlDataSource db, EventNotifications notifications, EventStreamOptions options, ILogger logger, EventFilter filter)
    {
        public async IAsyncEnumerable<SseItem<ChangeEvent>> ReadAsync(long after, CancellationToken stopping, [EnumeratorCancellation] CancellationToken aborted)
        {
            // Ends at the app's stopping too, so that open streams never hold up a shutdown: the
            // client reconnects (to another instance) with Last-Event-ID and loses nothing.
            using var counted = notifications.Subscribe();
            using var ending = CancellationTokenSource.CreateLinkedTokenSource(stopping, aborted);
            var ct = ending.Token;
            var heartbeat = TimeSpan.FromSeconds(options.HeartbeatSeconds);
            var catchUp = TimeSpan.FromSeconds(options.CatchUpSeconds);
            var first = true;
            var quietSince = DateTime.UtcNow;
            while (true)
            {
                // Taken before the read: an event that commits while the read runs still ends the wait after it.
                var wake = notifications.Next;
                var batch = await TryReadAsync(after, first, ct);
                if (batch is null)
                {
                    yield break;
                }

                foreach (var stored in batch)
                {
                    after = stored.Position;
                    var change = stored.ToChangeEvent();
                    yield return new SseItem<ChangeEvent>(change, change.Type.ToName()) { EventId = change.Id };
                }

                if (batch.Count > 0)
                {
                    first = false;
                    quietSince = DateTime.UtcNow;
                    if (batch.Count == BatchSize)
                    {
                        continue;
                    }
                }
                else if (first || DateTime.UtcNow - quietSince >= heartbeat)
                {
                    // The first one also sends the answer's headers at once, so that the client
                    // knows it is subscribed before anything happens.
                    first = false;
                    quietSince = DateTime.UtcNow;
                    yield return new SseItem<ChangeEvent>(null!, Heartbeat);
                }

                var untilHeartbeat = heartbeat - (DateTime.UtcNow - quietSince);
                if (!await WaitAsync(wake, untilHeartbeat < catchUp ? untilHeartbeat : catchUp, ct))
                {
                    yield break;
                }
            }
        }

        /// <summary>
        /// The next batch on a connection of its own, returned to the pool before the events are
        /// written; null when the stream is to end: the client left, the app is stopping, or the
        /// database failed after the stream began (the client reconnects with Last-Event-ID and
        /// loses nothing). A failed first read is thrown, so that it answers as a problem (503).
        /// </summary>
        private async Task<IReadOnlyList<StoredEvent>?> TryReadAsync(long after, bool first, CancellationToken ct)
        {
            try
            {
                return await EventStore.ReadAsync(db, filter, after, BatchSize, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return null;
            }
            catch (Exception e) when (!first && e is NpgsqlException or TimeoutException)
            {
                logger.LogWarning(e, "Ended an event stream at position {Position}: the events could not be read ({Reason}); the client resumes from there", after, e.Message);
                return null;
            }
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
            + "Same filters as GET /events: `type` (repeatable) and `claimId`.";

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
        }
    }
}
