using System.Collections.Concurrent;
using System.Diagnostics;
using Claims.Api.Events;
using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// The feed's promise under load: a reader that keeps asking with the last position it saw,
/// while writers commit in whatever order the server schedules them, sees every committed event
/// exactly once, in position order.
/// </summary>
public sealed class EventOrderingTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const int Writers = 8;
    private static readonly TimeSpan WritingFor = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task AReaderPagingWithAfterDuringEightConcurrentWritersSeesEveryEventOnceInOrder()
    {
        var client = api.CreateClient();
        var claims = new List<Guid>();
        for (var i = 0; i < Writers; i++)
        {
            claims.Add(await client.ClaimAsync());
        }

        await Feed.SettleEventsAsync(api.ConnectionString);
        var mark = await client.MarkAsync();
        var written = new ConcurrentBag<Guid>();
        var clock = Stopwatch.StartNew();
        var writers = claims.Select(claim => Task.Run(async () =>
        {
            using var writer = api.CreateClient();
            // Each writer moves its own claim back and forth, and logs a source now and then: two
            // kinds of transactions of different lengths, committing in an order nobody controls.
            var inReview = false;
            for (var n = 0; n < 10_000 && clock.Elapsed < WritingFor; n++)
            {
                if (n % 4 == 3)
                {
                    var source = await (await writer.PostAsJsonAsync("/sources", new { name = $"Source {claim} {n}", kind = "outlet" })).ReadJsonAsync(HttpStatusCode.Created);
                    written.Add(source.Id());
                }
                else
                {
                    // Always a move: setting the current status again writes no event.
                    inReview = !inReview;
                    await writer.SetStatusAsync(claim, inReview ? "in_review" : "unverified", null);
                    written.Add(claim);
                }
            }
        })).ToList();

        // Three more sequencers, as if several instances shared the database, so that runs contend.
        // (Positions taken by the writers themselves, the naive design, fail this test: the reader
        // skips events that commit after a greater position.)
        await using var db = Npgsql.NpgsqlDataSource.Create(api.ConnectionString);
        var sequencers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            for (var n = 0; n < 100_000 && clock.Elapsed < WritingFor; n++)
            {
                await EventSequencer.SequenceAsync(db, notify: false, CancellationToken.None);
            }
        })).ToList();

        var seen = new List<long>();
        var after = mark;
        var reading = Task.WhenAll(writers.Concat(sequencers));
        var settled = false;
        for (var round = 0; round < 100_000; round++)
        {
            var writing = !reading.IsCompleted;
            if (!writing && !settled)
            {
                // Every write was answered: once numbered, the reader must find all of them.
                await Feed.SettleEventsAsync(api.ConnectionString);
                settled = true;
            }

            var page = await (await client.GetAsync($"/events?after={after}&limit=50")).ReadJsonAsync(HttpStatusCode.OK);
            var positions = page.Items().Select(Feed.Position).ToList();
            seen.AddRange(positions);
            if (positions.Count > 0)
            {
                after = positions[^1];
            }
            else if (!writing)
            {
                // Empty after every writer had finished: the reader is caught up for good.
                break;
            }
        }

        await reading;
        var all = (await client.ReadAsync(mark)).Select(Feed.Position).ToList();
        Assert.Equal(written.Count, all.Count);
        Assert.True(all.Count > Writers * 5, $"Only {all.Count} events were written in {WritingFor}.");
        Assert.Equal(all, seen);
        Assert.Equal(seen.Order(), seen);
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }
}
