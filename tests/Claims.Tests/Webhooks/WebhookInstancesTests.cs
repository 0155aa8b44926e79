using System.Globalization;
using Claims.Tests.Infrastructure;
using Npgsql;

namespace Claims.Tests;

/// <summary>
/// Webhooks with real API processes: two instances on one database share the deliveries without
/// sending any attempt twice, and an instance killed with deliveries pending loses none of them.
/// </summary>
[Collection(TimeBound.Name)]
public sealed class WebhookInstancesTests(WebhookInstancesTests.TwoInstances instances) : IClassFixture<WebhookInstancesTests.TwoInstances>
{
    private static readonly TimeSpan Arrives = TimeSpan.FromSeconds(30);

    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Webhooks:AllowPrivateNetworks"] = "true",
        ["Webhooks:RetrySchedule"] = "0.3,0.3,0.3,0.3,0.3",
        ["Webhooks:PollSeconds"] = "0.1",
        ["Webhooks:TimeoutSeconds"] = "2",
    };

    [Fact]
    public async Task TwoInstancesDeliverEachEventOnceInPositionOrderWithOneAttemptEach()
    {
        using var onA = instances.A.CreateClient(instances.A.AdminKey);
        using var onB = instances.B.CreateClient(instances.B.AdminKey);
        var source = await onA.SourceAsync("Hromadske", "outlet", "C");
        var claim = await onA.ClaimAsync(Story.Desertions);
        var url = instances.Receiver.NewUrl();
        var webhook = await RegisterAsync(onA, url, claim);

        // Twenty evidence items at once, half through each instance.
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => AddEvidenceAsync(i % 2 == 0 ? onA : onB, claim, source, $"Desertion report {i}")));

        await instances.Receiver.WaitForAsync(url, 20, Arrives);
        // Delivered, so numbered: the feed has them all by then.
        var inFeed = await onA.ReadAsync(0, $"&claimId={claim}&type=evidence.added");
        Assert.Equal(20, inFeed.Count);
        // Both workers keep polling every 0.1 s: a repeat would show within this.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var received = instances.Receiver.ReceivedAt(url);
        Assert.Equal(inFeed.Select(e => e.Str("id")), received.Select(r => r.Json.Str("id")));
        Assert.Equal(20, received.Select(r => r.Id).Distinct().Count());
        var deliveries = (await (await onB.GetAsync($"/webhooks/{webhook}/deliveries?limit=200")).ReadJsonAsync(HttpStatusCode.OK)).Items().ToList();
        Assert.Equal(20, deliveries.Count);
        Assert.All(deliveries, d => Assert.Equal(("succeeded", 1), (d.Str("status"), d.GetProperty("attempts").GetInt32())));
    }

    [Fact]
    public async Task AnInstanceKilledWithDeliveriesPendingLosesNoneOfThemAfterARestart()
    {
        var connectionString = await TestDatabase.CreateAsync();
        try
        {
            // The receiver fails the first attempts, so that deliveries are pending when the API dies.
            var url = instances.Receiver.NewUrl(503, 503, 503);
            Guid claim;
            await using (var first = await ApiServer.StartAsync(connectionString, Settings))
            {
                using var client = first.CreateClient(first.AdminKey);
                var source = await client.SourceAsync("Suspilne", "outlet", "B");
                claim = await client.ClaimAsync(Story.Deserted);
                await RegisterAsync(client, url, claim);
                for (var i = 0; i < 5; i++)
                {
                    await AddEvidenceAsync(client, claim, source, $"Report {i}");
                }

                await instances.Receiver.WaitForAsync(url, 2, Arrives);
                // DisposeAsync kills the process (SIGKILL), mid-round.
            }

            Assert.True(await ScalarAsync(connectionString, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'") > 0,
                "No delivery was pending when the API was killed; the test proves nothing.");

            await using var second = await ApiServer.StartAsync(connectionString, Settings);
            using var restarted = second.CreateClient(second.AdminKey);
            // Events whose writes were answered before the kill but not numbered yet are numbered
            // by the new process's sequencer at its start; this waits until they are.
            await Feed.SettleEventsAsync(connectionString);
            var inFeed = (await restarted.ReadAsync(0, $"&claimId={claim}&type=evidence.added")).Select(e => e.Str("id")).ToList();
            Assert.Equal(5, inFeed.Count);
            for (var i = 0; ; i++)
            {
                var succeeded = instances.Receiver.ReceivedAt(url).Where(r => r.AnsweredWith == 200).Select(r => r.Json.Str("id")).Distinct().ToList();
                if (succeeded.Count == inFeed.Count)
                {
                    Assert.Equal(inFeed, succeeded);
                    break;
                }

                Assert.True(i < 300, $"After the restart, {succeeded.Count} of {inFeed.Count} events were delivered within 30 s.\n{second.Output}");
                await Task.Delay(100);
            }

            Assert.Equal(5, await ScalarAsync(connectionString, "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'"));
        }
        finally
        {
            await TestDatabase.DropAsync(connectionString);
        }
    }

    private static async Task<Guid> RegisterAsync(HttpClient client, string url, Guid claimId)
    {
        var created = await (await client.PostAsJsonAsync("/webhooks", new { url, eventTypes = new[] { "evidence.added" }, claimId }))
            .ReadJsonAsync(HttpStatusCode.Created);
        return created.GetProperty("webhook").Id();
    }

    private static async Task AddEvidenceAsync(HttpClient client, Guid claim, Guid source, string quote) =>
        await (await client.PostAsJsonAsync($"/claims/{claim}/evidence", Story.Evidence(source, "supports", quote))).ReadJsonAsync(HttpStatusCode.Created);

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>Two API processes on one database, delivering to a loopback receiver with quick retries.</summary>
    public sealed class TwoInstances() : TwoApiServers("Webhook deliveries started", Settings), IAsyncLifetime
    {
        public WebhookReceiver Receiver { get; } = new();

        async Task IAsyncLifetime.DisposeAsync()
        {
            await DisposeAsync();
            await Receiver.DisposeAsync();
        }
    }
}
