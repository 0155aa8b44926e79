using Claims.Api.Errors;
using Claims.Api.Events;
using Claims.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Claims.Tests;

/// <summary>
/// The caps on live streams (per caller, per instance) and on how many of them read the events
/// table at once. Each test runs an app of its own with small caps, so that it counts only its
/// own streams; they share the class's database.
/// </summary>
public sealed class EventStreamLimitsTests : IClassFixture<ApiFactory>
{
    private static readonly TimeSpan Arrives = TimeSpan.FromSeconds(10);

    private readonly ApiFactory _api;

    public EventStreamLimitsTests(ApiFactory api)
    {
        // No webhook rounds but at start, in any of the apps: they read the events table, which
        // a test locks to count who waits for it.
        api.Settings["Webhooks:PollSeconds"] = "3600";
        _api = api;
    }

    [Fact]
    public async Task OneKeyOverItsCapGets429WhileAnotherKeyStillGetsAStreamAndClosingOneFreesASlot()
    {
        await using var app = App(("Events:MaxStreamsPerCaller", "2"), ("Events:MaxStreams", "10"));
        using var admin = Client(app, _api.AdminKey);
        using var reader = Client(app, await KeyAsync("Dashboard"));
        EventStreamReader? first = await OpenAsync(admin);
        await using var second = await OpenAsync(admin);
        try
        {
            var refused = await admin.GetAsync("/events/stream");
            await using var other = await OpenAsync(reader);

            var problem = await refused.ReadProblemAsync(HttpStatusCode.TooManyRequests);
            Assert.Equal(ProblemTypes.TooManyStreams.Uri, problem.Str("type"));
            Assert.Equal(ProblemTypes.TooManyStreams.Title, problem.Str("title"));
            Assert.Contains("already holds 2 live streams", problem.Str("detail"), StringComparison.Ordinal);
            Assert.Equal("30", Assert.Single(refused.Headers.GetValues("Retry-After")));
            // The key's open streams go on.
            Assert.Equal(EventStream.Heartbeat, (await second.NextItemAsync(Arrives)).EventType);

            await first.DisposeAsync();
            first = null;
            await WaitForStreamsAsync(app, 2);
            await using var again = await OpenAsync(admin);
            Assert.Equal(EventStream.Heartbeat, (await again.NextItemAsync(Arrives)).EventType);
        }
        finally
        {
            if (first is not null)
            {
                await first.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AnInstanceAtItsCapAnswers503StreamsFullWithRetryAfterToAnyKey()
    {
        await using var app = App(("Events:MaxStreamsPerCaller", "2"), ("Events:MaxStreams", "3"));
        using var admin = Client(app, _api.AdminKey);
        using var reader = Client(app, await KeyAsync("Newsroom wall"));
        using var late = Client(app, await KeyAsync("Partner CMS"));
        await using var one = await OpenAsync(admin);
        await using var two = await OpenAsync(admin);
        await using var three = await OpenAsync(reader);

        var refused = await late.GetAsync("/events/stream");

        var problem = await refused.ReadProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Equal(ProblemTypes.StreamsFull.Uri, problem.Str("type"));
        Assert.Equal(ProblemTypes.StreamsFull.Title, problem.Str("title"));
        Assert.Contains("already holds 3 live streams", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal("5", Assert.Single(refused.Headers.GetValues("Retry-After")));
        Assert.Equal(3, app.Services.GetRequiredService<EventNotifications>().Subscribers);
    }

    [Fact]
    public async Task StreamsWokenTogetherReadAFewAtATimeAndTheOthersWaitWithoutAConnectionForAsLongAsItTakes()
    {
        // Twelve streams, reads two at a time, and a pool whose connections run out after waiting
        // 1 s: the events table is locked for longer than that while every stream wants to read
        // (each reads every second). Without the turns, ten would wait on the pool and fail.
        await using var app = App(
            ("Events:MaxStreamsPerCaller", "12"),
            ("Events:MaxConcurrentStreamReads", "2"),
            ("ConnectionStrings:Claims", new NpgsqlConnectionStringBuilder(_api.ConnectionString) { MaxPoolSize = 8, Timeout = 1 }.ConnectionString));
        using var admin = Client(app, _api.AdminKey);
        await Feed.SettleEventsAsync(_api.ConnectionString);
        var mark = await admin.MarkAsync();
        var streams = new List<EventStreamReader>();
        try
        {
            for (var i = 0; i < 12; i++)
            {
                streams.Add(await OpenAsync(admin, $"/events/stream?type=source.created&after={mark}"));
            }

            await using (var locked = await TableLock.TakeAsync(_api.ConnectionString, "events"))
            {
                await locked.WaitUntilBlockedAsync(2, EventStore.Tag, Arrives);
                // Past the pool's timeout, with every stream due to read several times over.
                await Task.Delay(TimeSpan.FromSeconds(2.5));
                Assert.Equal(2, await locked.BlockedAsync(EventStore.Tag));
            }

            var source = await admin.SourceAsync("Hromadske", "outlet");

            foreach (var stream in streams)
            {
                var received = await stream.NextEventAsync(Arrives);
                Assert.Equal("source.created", received.EventType);
                Assert.Equal(source.ToString(), JsonDocument.Parse(received.Data).RootElement.Str("subject"));
            }
        }
        finally
        {
            foreach (var stream in streams)
            {
                await stream.DisposeAsync();
            }
        }
    }

    /// <summary>An app of its own on the class's database: heartbeats and catch-up reads every second, and the given settings.</summary>
    private WebApplicationFactory<Program> App(params (string Key, string Value)[] settings) =>
        _api.WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Events:HeartbeatSeconds", "1");
            builder.UseSetting("Events:CatchUpSeconds", "1");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
        });

    private static HttpClient Client(WebApplicationFactory<Program> app, string key)
    {
        var client = app.CreateClient();
        // Bounds a stream answered where a refusal was expected; an open stream's reads are bounded by its reader.
        client.Timeout = TimeSpan.FromSeconds(15);
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    /// <summary>Opens a stream and reads its opening heartbeat, so that the server holds it.</summary>
    private static async Task<EventStreamReader> OpenAsync(HttpClient client, string url = "/events/stream?claimId=00000000-0000-0000-0000-000000000001")
    {
        var stream = await EventStreamReader.OpenAsync(client, url);
        Assert.Equal(EventStream.Heartbeat, (await stream.NextItemAsync(Arrives)).EventType);
        return stream;
    }

    /// <summary>A reader key of its own: another caller.</summary>
    private async Task<string> KeyAsync(string name)
    {
        using var admin = _api.CreateClient();
        var created = await (await admin.PostAsJsonAsync("/admin/keys", new { name, role = "reader" })).ReadJsonAsync(HttpStatusCode.Created);
        return created.Str("key");
    }

    private static async Task WaitForStreamsAsync(WebApplicationFactory<Program> app, int open)
    {
        var hub = app.Services.GetRequiredService<EventNotifications>();
        for (var i = 0; hub.Subscribers != open; i++)
        {
            Assert.True(i < 100, $"{hub.Subscribers} streams still open on the server 10 s after a client left; expected {open}.");
            await Task.Delay(100);
        }
    }
}
