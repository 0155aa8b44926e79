using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// Reads from a real streaming replica with read-your-writes: every write answer carries a
/// Consistency-Token, and a read that sends it back sees the write, whether the replica has it
/// yet or not; reads without one are served by the replica, which may be behind.
/// </summary>
public sealed class ReplicaTests(ReplicatedServer servers, ApiFactory withoutReplica) : IClassFixture<ReplicatedServer>, IClassFixture<ApiFactory>
{
    [Fact]
    public async Task ReadsReachTheReplicaAndAReadWithTheWritesTokenSeesTheWriteTheReplicaHasNotReplayed()
    {
        using var client = servers.Client(servers.App);
        await servers.PauseReplayAsync();
        try
        {
            var created = await client.PostAsJsonAsync("/claims", new { statement = "North Korean troops are training in Russia's Kursk region." });
            var claim = (await created.ReadJsonAsync(HttpStatusCode.Created)).Id();
            var token = Assert.Single(created.Headers.GetValues("Consistency-Token"));
            Assert.Matches("^[0-9A-F]+/[0-9A-F]+$", token);

            // Without the token the read is the replica's, which stopped before the write.
            var stale = await client.GetAsync($"/claims/{claim}");
            Assert.Equal("/problems/not-found", (await stale.ReadProblemAsync(HttpStatusCode.NotFound)).Str("type"));

            // With it, the answer holds the write: the replica cannot catch up, so the primary answers.
            var fresh = await ReadAsync(client, $"/claims/{claim}", token);
            Assert.Equal("North Korean troops are training in Russia's Kursk region.", (await fresh.ReadJsonAsync(HttpStatusCode.OK)).Str("statement"));
        }
        finally
        {
            await servers.ResumeReplayAsync();
        }
    }

    [Fact]
    public async Task UnderWriteLoadEveryWriterReadsItsOwnWritesThroughTheReplica()
    {
        using var client = servers.Client(servers.App);
        using var busy = servers.Client(servers.App);
        using var stop = new CancellationTokenSource();
        var others = 0;
        // Another desk logs claims all along, so that the replica always has WAL to replay.
        var load = Task.Run(async () =>
        {
            for (var i = 0; i < 10_000 && !stop.IsCancellationRequested; i++)
            {
                await (await busy.PostAsJsonAsync("/claims", new { statement = $"Desertions were reported near Pokrovsk, report {i}." })).ReadJsonAsync(HttpStatusCode.Created);
                others++;
            }
        });

        var misses = new ConcurrentBag<string>();
        for (var round = 0; round < 20; round++)
        {
            var statement = $"Officials say the troops arrived by train, round {round}.";
            var created = await client.PostAsJsonAsync("/claims", new { statement });
            var claim = (await created.ReadJsonAsync(HttpStatusCode.Created)).Id();
            var read = await (await ReadAsync(client, $"/claims/{claim}", created.Headers.GetValues("Consistency-Token").Single())).ReadJsonAsync(HttpStatusCode.OK);
            if (read.Str("statement") != statement)
            {
                misses.Add($"round {round}: created, read back '{read.Str("statement")}'");
            }

            var edit = new HttpRequestMessage(HttpMethod.Put, $"/claims/{claim}") { Content = JsonContent.Create(new { statement = statement + " Unconfirmed." }) };
            edit.Headers.IfMatch.Add(new EntityTagHeaderValue("\"1\""));
            var edited = await client.SendAsync(edit);
            await edited.ReadJsonAsync(HttpStatusCode.OK);
            var reread = await ReadAsync(client, $"/claims/{claim}", edited.Headers.GetValues("Consistency-Token").Single());
            var body = await reread.ReadJsonAsync(HttpStatusCode.OK);
            if (body.Str("statement") != statement + " Unconfirmed." || reread.Headers.ETag?.Tag != "\"2\"")
            {
                misses.Add($"round {round}: edited, read back '{body.Str("statement")}' {reread.Headers.ETag}");
            }
        }

        await stop.CancelAsync();
        await load;
        Assert.Empty(misses);
        Assert.True(others > 0);
    }

    [Fact]
    public async Task AReplicaFurtherBehindThanAllowedIsLeftAloneUntilItCatchesUp()
    {
        await using var app = servers.With(("Database:ReplicaMaxLagSeconds", "1"));
        using var client = servers.Client(app);
        await servers.WaitUntilReadsReachTheReplicaAsync(client);
        await servers.PauseReplayAsync();
        try
        {
            var claim = await client.ClaimAsync("Experts doubt the troops will see combat soon.");

            // Read without a token: the replica's past at first, then, once it is more than a
            // second behind, the primary's present.
            var waited = Stopwatch.StartNew();
            HttpResponseMessage read;
            do
            {
                read = await client.GetAsync($"/claims/{claim}");
                await Task.Delay(100);
            }
            while (read.StatusCode == HttpStatusCode.NotFound && waited.Elapsed < TimeSpan.FromSeconds(10));

            Assert.Equal("Experts doubt the troops will see combat soon.", (await read.ReadJsonAsync(HttpStatusCode.OK)).Str("statement"));
        }
        finally
        {
            await servers.ResumeReplayAsync();
        }
    }

    [Theory]
    [InlineData("banana")]
    [InlineData("0/ZZ")]
    [InlineData("1/2/3")]
    public async Task AMalformedConsistencyTokenIsRefusedSayingWhatIsExpected(string token)
    {
        using var client = servers.Client(servers.App);

        var refused = await ReadAsync(client, "/claims?limit=1", token);

        var problem = await refused.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("/problems/invalid-request", problem.Str("type"));
        Assert.Contains("Consistency-Token", problem.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutAReplicaWritesGiveNoTokenAndReadsAcceptOne()
    {
        using var client = withoutReplica.CreateClient();

        var created = await client.PostAsJsonAsync("/claims", new { statement = "A spokesman denied the troops were there." });
        var claim = (await created.ReadJsonAsync(HttpStatusCode.Created)).Id();

        Assert.False(created.Headers.Contains("Consistency-Token"));
        var read = await ReadAsync(client, $"/claims/{claim}", "0/16B3748");
        Assert.Equal("A spokesman denied the troops were there.", (await read.ReadJsonAsync(HttpStatusCode.OK)).Str("statement"));
    }

    private static Task<HttpResponseMessage> ReadAsync(HttpClient client, string path, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Consistency-Token", token);
        return client.SendAsync(request);
    }
}

/// <summary>The replica stops under a running app, and comes back: reads go to the primary meanwhile, never failing.</summary>
public sealed class ReplicaLossTests(ReplicatedServer servers) : IClassFixture<ReplicatedServer>
{
    [Fact]
    public async Task WhileTheReplicaIsDownReadsAreServedByThePrimaryAndReturnToTheReplicaWhenItIsBack()
    {
        using var client = servers.Client(servers.App);
        var created = await client.PostAsJsonAsync("/claims", new { statement = "Satellite images show new barracks." });
        var claim = (await created.ReadJsonAsync(HttpStatusCode.Created)).Id();
        var token = created.Headers.GetValues("Consistency-Token").Single();

        await servers.StopReplicaAsync();
        try
        {
            foreach (var path in new[] { $"/claims/{claim}", $"/claims/{claim}/status", "/claims?limit=5", "/sources", "/stats" })
            {
                await (await client.GetAsync(path)).ReadJsonAsync(HttpStatusCode.OK);
            }

            var request = new HttpRequestMessage(HttpMethod.Get, $"/claims/{claim}");
            request.Headers.TryAddWithoutValidation("Consistency-Token", token);
            Assert.Equal("Satellite images show new barracks.", (await (await client.SendAsync(request)).ReadJsonAsync(HttpStatusCode.OK)).Str("statement"));
        }
        finally
        {
            await servers.StartReplicaAsync();
        }

        await servers.WaitUntilReadsReachTheReplicaAsync(client);
    }
}
