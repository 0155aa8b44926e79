using Claims.Api.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Claims.Api.Events;

public static class EventsApi
{
    public static RouteGroupBuilder MapEvents(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/events").WithTags("Events");

        group.MapGet("/", ListEvents).WithName(nameof(ListEvents)).Allow(Role.Reader)
            .WithSummary("Read the changes feed, oldest first")
            .WithDescription("Every change to claims, evidence and sources as a CloudEvent (JSON format), in the order the changes committed. Store the id of the last event you processed and ask again with after= set to it: you never miss an event and never see one twice. nextCursor is that id (and Link rel=\"next\" the URL to ask next) whenever the page has events; a page shorter than limit means you are up to date. Events are kept for Events:RetentionDays (30 days by default).");

        return group;
    }

    public static async Task<Ok<EventPage>> ListEvents([AsParameters] EventQuery query, NpgsqlDataSource db, CancellationToken ct)
    {
        var events = await EventStore.ReadAsync(db, query.Filter, query.Position, query.Size, ct);
        var items = events.Select(e => e.ToChangeEvent()).ToList();
        return TypedResults.Ok(new EventPage(items, items.Count == 0 ? null : items[^1].Id));
    }
}
