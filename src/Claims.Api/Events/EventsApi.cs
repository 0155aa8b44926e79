using Claims.Api.Auth;
using Claims.Api.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Claims.Api.Events;

public static class EventsApi
{
    public static RouteGroupBuilder MapEvents(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/events").WithTags("Events");

        group.MapGet("/", ListEvents).WithName(nameof(ListEvents)).Allow(Role.Reader)
            .WithSummary("Read the changes feed, oldest first")
            .WithDescription("Every change to claims, evidence and sources as a CloudEvent (JSON format), in the order the changes committed. Store the id of the last event you processed and ask again with after= set to it: you never miss an event and never see one twice. nextCursor is that id (and Link rel=\"next\" the URL to ask next) whenever the page has events; a page shorter than limit means you are up to date. Events are kept for Events:RetentionDays (30 days by default): an after below what was purged since is refused with 410 (problem events-purged, with purgedThrough and oldestKept) rather than answered with the purged events silently missing; resync, then read on with after=purgedThrough. after=0 reads from the oldest event kept and is never refused.")
            .ProducesEventsPurged();

        return group;
    }

    /// <summary>Declares the 410 events-purged answer of a read from a position (the feed, the stream).</summary>
    public static TBuilder ProducesEventsPurged<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status410Gone, typeof(ProblemDetails), [ProblemWriter.ContentType])
        {
            Description = "Events after the position asked for were purged (problem events-purged, with purgedThrough and oldestKept): resync, then read on with after=purgedThrough.",
        });

    public static async Task<Results<Ok<EventPage>, ProblemHttpResult>> ListEvents([AsParameters] EventQuery query, NpgsqlDataSource db, CancellationToken ct)
    {
        var read = await EventStore.ReadAsync(db, query.Filter, query.Position, query.Size, ct);
        if (read.Purged is { } purged)
        {
            return TypedResults.Problem(purged.Problem());
        }

        var items = read.Events.Select(e => e.ToChangeEvent()).ToList();
        return TypedResults.Ok(new EventPage(items, items.Count == 0 ? null : items[^1].Id));
    }
}
