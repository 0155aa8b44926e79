using System.Globalization;

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

    public static long Position(JsonElement cloudEvent) => long.Parse(cloudEvent.Str("id"), CultureInfo.InvariantCulture);
}
