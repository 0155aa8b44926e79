using Claims.Api.Errors;
using Claims.Tests.Infrastructure;
using Npgsql;

namespace Claims.Tests;

/// <summary>
/// Events older than Events:RetentionDays are purged in the background; younger ones stay. A
/// reader whose position the purge went past is told so (410 events-purged, or an open stream's
/// last event) instead of reading on past the hole. Each test ages the events up to a position of
/// its own, as if they had been written three days ago, and waits for the purge (every second here).
/// </summary>
public sealed class EventRetentionTests : IClassFixture<ApiFactory>
{
    private static readonly TimeSpan Arrives = TimeSpan.FromSeconds(20);

    private readonly ApiFactory _api;
    private readonly HttpClient _client;

    public EventRetentionTests(ApiFactory api)
    {
        api.Settings["Events:RetentionDays"] = "2";
        api.Settings["Events:PurgeIntervalSeconds"] = "1";
        api.Settings["Events:HeartbeatSeconds"] = "1";
        api.Settings["Events:CatchUpSeconds"] = "1";
        _api = api;
        _client = api.CreateClient();
    }

    [Fact]
    public async Task EventsOlderThanTheRetentionAreRemovedFromTheFeedAndYoungerOnesStay()
    {
        var old = new List<Guid>();
        await using (var connection = new NpgsqlConnection(_api.ConnectionString))
        {
            await connection.OpenAsync();
            for (var i = 0; i < 3; i++)
            {
                var id = Guid.NewGuid();
                old.Add(id);
                await using var insert = new NpgsqlCommand(
                    "INSERT INTO event_outbox (type, subject, actor, data) VALUES ('source.deleted', @id, 'old', jsonb_build_object('id', @id))", connection);
                insert.Parameters.AddWithValue("id", id);
                await insert.ExecuteNonQueryAsync();
            }

            await Feed.SettleEventsAsync(_api.ConnectionString);
            await using var age = new NpgsqlCommand(
                "UPDATE events SET time = now() - interval '3 days' WHERE position <= (SELECT max(position) FROM events WHERE actor = 'old')", connection);
            await age.ExecuteNonQueryAsync();
        }

        var kept = await _client.SourceAsync();
        await using (var connection = new NpgsqlConnection(_api.ConnectionString))
        {
            await connection.OpenAsync();
            await using var young = new NpgsqlCommand(
                """
                INSERT INTO event_outbox (type, subject, actor, data, time) VALUES ('source.deleted', gen_random_uuid(), 'young', '{}', now() - interval '1 day')
                """, connection);
            await young.ExecuteNonQueryAsync();
        }

        await Feed.SettleEventsAsync(_api.ConnectionString);

        // The purge runs every second; 20 s is far more than it needs.
        List<JsonElement> events = [];
        for (var attempt = 0; attempt < 200; attempt++)
        {
            events = await _client.ReadAsync(0);
            if (!events.Any(e => old.Contains(e.GetProperty("subject").GetGuid())))
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.DoesNotContain(events, e => old.Contains(e.GetProperty("subject").GetGuid()));
        Assert.Contains(events, e => e.Str("type") == "source.created" && e.GetProperty("subject").GetGuid() == kept);
        Assert.Contains(events, e => e.Str("actor") == "young");
    }

    [Fact]
    public async Task AReadFromAPositionThePurgeWentPastIs410EventsPurgedSayingWhereToResume()
    {
        var purge = await PurgeAsync();

        var problem = await (await _client.GetAsync($"/events?after={purge.Seen}")).ReadProblemAsync(HttpStatusCode.Gone);
        var resumed = await (await _client.GetAsync($"/events?after={purge.Through}&limit=1")).ReadJsonAsync(HttpStatusCode.OK);

        AssertPurged(problem, purge);
        Assert.Equal(purge.Kept.ToString(), Assert.Single(resumed.Items()).Str("id"));
    }

    [Fact]
    public async Task FromZeroOrWithoutAfterTheFeedStillReadsFromTheOldestEventKeptAndPagesOnAfterAPurge()
    {
        var purge = await PurgeAsync();

        var implicitZero = await (await _client.GetAsync("/events?limit=1")).ReadJsonAsync(HttpStatusCode.OK);
        var first = await (await _client.GetAsync("/events?after=0&limit=1")).ReadJsonAsync(HttpStatusCode.OK);
        var second = await (await _client.GetAsync($"/events?after={first.Str("nextCursor")}&limit=1")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(purge.Kept.ToString(), Assert.Single(implicitZero.Items()).Str("id"));
        Assert.Equal(purge.Kept.ToString(), Assert.Single(first.Items()).Str("id"));
        Assert.Equal(purge.Newest.ToString(), Assert.Single(second.Items()).Str("id"));
    }

    [Fact]
    public async Task AStreamResumingWithALastEventIdThePurgeWentPastIs410AndFromZeroItStartsAtTheOldestEventKept()
    {
        var purge = await PurgeAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/events/stream?after=0");
        request.Headers.Add("Last-Event-ID", purge.Seen.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var problem = await (await _client.SendAsync(request)).ReadProblemAsync(HttpStatusCode.Gone);
        await using var fromZero = await EventStreamReader.OpenAsync(_client, "/events/stream?after=0");

        AssertPurged(problem, purge);
        Assert.Equal(purge.Kept.ToString(), (await fromZero.NextEventAsync(Arrives)).EventId);
    }

    [Fact]
    public async Task AnOpenStreamThatAPurgeOvertakesEndsWithAnEventsPurgedEventRatherThanSkipping()
    {
        // A stream of one claim: it holds the claim's event while others are written and purged.
        var claim = await _client.ClaimAsync();
        await using var stream = await EventStreamReader.OpenAsync(_client, $"/events/stream?claimId={claim}");
        var seen = long.Parse((await stream.NextEventAsync(Arrives)).EventId!, System.Globalization.CultureInfo.InvariantCulture);

        var purge = await PurgeAsync();

        var last = await stream.NextEventAsync(Arrives);
        var problem = JsonDocument.Parse(last.Data).RootElement;
        Assert.Equal(ProblemTypes.EventsPurged.Slug, last.EventType);
        Assert.Null(last.EventId);
        AssertPurged(problem, purge with { Seen = seen });
        Assert.False(string.IsNullOrEmpty(problem.Str("requestId")));
        Assert.True(await stream.EndsWithinAsync(Arrives), "The stream went on after its events-purged event.");
    }

    private static void AssertPurged(JsonElement problem, Purge purge)
    {
        Assert.Equal(ProblemTypes.EventsPurged.Uri, problem.Str("type"));
        Assert.Equal(ProblemTypes.EventsPurged.Title, problem.Str("title"));
        Assert.Equal(410, problem.GetProperty("status").GetInt32());
        Assert.Equal(purge.Seen, problem.GetProperty("after").GetInt64());
        Assert.Equal(purge.Through, problem.GetProperty("purgedThrough").GetInt64());
        Assert.Equal(purge.Kept, problem.GetProperty("oldestKept").GetInt64());
        Assert.Contains($"after={purge.Through}", problem.Str("detail"), StringComparison.Ordinal);
    }

    /// <summary>
    /// Writes three events and then two more, ages everything up to the third by three days and
    /// waits until the purge has deleted it: what a client that saw the first of them, and the
    /// feed after the purge, look like.
    /// </summary>
    private async Task<Purge> PurgeAsync()
    {
        await Feed.SettleEventsAsync(_api.ConnectionString);
        var mark = await _client.MarkAsync();
        for (var i = 0; i < 5; i++)
        {
            await _client.SourceAsync($"Outlet {i}", "outlet");
        }

        await Feed.SettleEventsAsync(_api.ConnectionString);
        var written = (await _client.ReadAsync(mark)).Select(Feed.Position).ToList();
        Assert.Equal(5, written.Count);
        await using (var connection = new NpgsqlConnection(_api.ConnectionString))
        {
            await connection.OpenAsync();
            await using var age = new NpgsqlCommand("UPDATE events SET time = now() - interval '3 days' WHERE position <= @through", connection);
            age.Parameters.AddWithValue("through", written[2]);
            await age.ExecuteNonQueryAsync();
        }

        // The purge runs every second; 20 s is far more than it needs. From 0 the feed starts
        // at the oldest event kept, so the purge is done when that is the fourth.
        for (var attempt = 0; ; attempt++)
        {
            var oldest = (await (await _client.GetAsync("/events?limit=1")).ReadJsonAsync(HttpStatusCode.OK)).Items().Single();
            if (Feed.Position(oldest) == written[3])
            {
                return new Purge(written[0], written[2], written[3], written[4]);
            }

            Assert.True(attempt < 200, $"The purge did not reach position {written[2]} within 20 s; the feed starts at {Feed.Position(oldest)}.");
            await Task.Delay(100);
        }
    }

    /// <summary>A purge as a client meets it: a position it saw, the highest purged, the oldest kept, and the one after.</summary>
    private sealed record Purge(long Seen, long Through, long Kept, long Newest);
}
