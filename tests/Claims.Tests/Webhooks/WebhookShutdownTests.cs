using System.Diagnostics;
using System.Globalization;
using Claims.Api.Webhooks;
using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// SIGTERM while a webhook delivery is in flight, as in a rolling restart: the instance gives up
/// the send and hands the delivery back, so that another instance sends it at once rather than
/// when the claim's lease ends, and the interrupted send counts as no attempt.
/// </summary>
[Collection(TimeBound.Name)]
public sealed class WebhookShutdownTests : IAsyncLifetime
{
    // Long, so that the held request outlives the test and the lease is long: a second send soon
    // after the SIGTERM can only come from the delivery handed back.
    private const int TimeoutSeconds = 60;

    private static readonly TimeSpan Lease = WebhookWorker.RunWindow + TimeSpan.FromSeconds(TimeoutSeconds) + WebhookWorker.LeaseMargin;

    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Webhooks:AllowPrivateNetworks"] = "true",
        ["Webhooks:PollSeconds"] = "0.1",
        ["Webhooks:TimeoutSeconds"] = TimeoutSeconds.ToString(CultureInfo.InvariantCulture),
    };

    private readonly WebhookReceiver _receiver = new();
    private string _connectionString = "";

    public async Task InitializeAsync() => _connectionString = await TestDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await TestDatabase.DropAsync(_connectionString);
    }

    [Fact]
    public async Task OnSigtermADeliveryInFlightGoesBackToWaitingAndAnotherInstanceSendsItAtOnceAsItsFirstAttempt()
    {
        var url = _receiver.NewUrlHoldingFirst();
        await using var first = await ApiServer.StartAsync(_connectionString, Settings);
        using var onFirst = first.CreateClient(first.AdminKey);
        var created = await (await onFirst.PostAsJsonAsync("/webhooks", new { url, eventTypes = new[] { "claim.created" } }))
            .ReadJsonAsync(HttpStatusCode.Created);
        var webhook = created.GetProperty("webhook").Id();
        var claim = await onFirst.ClaimAsync();

        var held = Assert.Single(await _receiver.WaitForAsync(url, 1, TimeSpan.FromSeconds(15)));
        // The lease was taken just before the send began.
        var sinceLease = Stopwatch.StartNew();
        // Started once the first has claimed the delivery, so that the second can only send it once it is handed back.
        await using var second = await ApiServer.StartAsync(_connectionString, Settings);
        await second.WaitForOutputAsync("Webhook deliveries started", TimeSpan.FromSeconds(30));
        Assert.Single(_receiver.ReceivedAt(url));

        var exit = await first.TerminateAsync(TimeSpan.FromSeconds(15));

        Assert.True(exit == 0, $"The process exited with {exit?.ToString(CultureInfo.InvariantCulture) ?? "nothing (still running)"}: {first.Output}");
        var within = Lease / 3;
        Assert.True(sinceLease.Elapsed + within < Lease,
            $"The first instance stopped {sinceLease.Elapsed.TotalSeconds:0} s into the {Lease.TotalSeconds:0} s lease: a send after the lease would pass too; the test proves nothing.");
        var received = await _receiver.WaitForAsync(url, 2, within);
        using var onSecond = second.CreateClient(second.AdminKey);
        var delivery = await SucceededDeliveryAsync(onSecond, webhook);
        Assert.Equal([0, 200], _receiver.ReceivedAt(url).Select(r => r.AnsweredWith));
        Assert.Equal(held.Id, received[1].Id);
        Assert.Equal(held.Body, received[1].Body);
        var inFeed = Assert.Single(await onSecond.ReadAsync(0, $"&claimId={claim}&type=claim.created"));
        Assert.True(JsonElement.DeepEquals(inFeed, received[1].Json), $"The delivery's body is the feed's item.\n  webhook: {received[1].Body}\n  feed:    {inFeed.GetRawText()}");
        Assert.Equal(held.Id, delivery.Str("messageId"));
        Assert.Equal(1, delivery.GetProperty("attempts").GetInt32());
        var attempt = Assert.Single(delivery.GetProperty("attemptLog").EnumerateArray());
        Assert.Equal((1, 200), (attempt.GetProperty("attempt").GetInt32(), attempt.GetProperty("statusCode").GetInt32()));
        Assert.Equal(JsonValueKind.Null, attempt.GetProperty("error").ValueKind);
    }

    /// <summary>The subscription's only delivery once it has succeeded: the receiver has the request before the sender records its answer.</summary>
    private static async Task<JsonElement> SucceededDeliveryAsync(HttpClient client, Guid webhook)
    {
        for (var i = 0; ; i++)
        {
            var page = await (await client.GetAsync($"/webhooks/{webhook}/deliveries")).ReadJsonAsync(HttpStatusCode.OK);
            var delivery = Assert.Single(page.GetProperty("items").EnumerateArray());
            if (delivery.Str("status") == "succeeded")
            {
                return delivery;
            }

            Assert.True(i < 50, $"The delivery was not recorded as succeeded within 5 s: {delivery}");
            await Task.Delay(100);
        }
    }
}
