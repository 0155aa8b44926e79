using System.Globalization;
using Claims.Api.Events;
using Npgsql;

namespace Claims.Tests.Infrastructure;

/// <summary>Reads the changes feed the way a syncing client does: from a stored position, page after page. Bounded.</summary>
public static class Feed
{
    /// <summary>Every event after <paramref name="after"/> up to now, oldest first, following nextCursor while pages are full.</summary>
    public static async Task<List<JsonElement>> ReadAsync(this HttpClient client, long after, string filters = "", int limit = 200, int maxPages = 100)
    {
        var events = new List<JsonElement>();
        for (var page = 0; ; page++)
        {
            Assert.True(page < maxPages, $"The feed did not end within {maxPages} pages.");
            var body = await (await client.GetAsync($"/events?after={after}&limit={limit}{filters}")).ReadJsonAsync(HttpStatusCode.OK);
            var items = body.Items().ToList();
            events.AddRange(items);
            var next = body.GetProperty("nextCursor");
            if (items.Count == 0)
            {
                Assert.Equal(JsonValueKind.Null, next.ValueKind);
                return events;
            }

            Assert.Equal(items[^1].Str("id"), next.GetString());
            after = Position(items[^1]);
            if (items.Count < limit)
            {
                return events;
            }
        }
    }

    /// <summary>The position of the newest event now: what a client stores before the change it wants to see.</summary>
    public static async Task<long> MarkAsync(this HttpClient client, long from = 0)
    {
        var events = await client.ReadAsync(from);
        return events.Count == 0 ? from : Position(events[^1]);
    }

    /// <summary>
    /// Numbers every event committed so far, as the API's sequencer does a moment after each
    /// write, with the API's own code on its database: a feed read that follows sees every change
    /// that was answered before. Tests that read the feed right after writing call it first,
    /// and before taking a mark, so that earlier changes do not land after it.
    /// </summary>
    public static async Task SettleEventsAsync(string connectionString)
    {
        await using var db = NpgsqlDataSource.Create(connectionString);
        for (var run = 0; run < 100; run++)
        {
            if (await EventSequencer.SequenceAsync(db, notify: true, CancellationToken.None) < EventSequencer.BatchSize)
            {
                return;
            }
        }

        Assert.Fail("The outbox did not empty within 100 runs.");
    }

    public static long Position(JsonElement cloudEvent) => long.Parse(cloudEvent.Str("id"), CultureInfo.InvariantCulture);
}
