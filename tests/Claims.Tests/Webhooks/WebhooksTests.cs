using System.Net.Http.Headers;
using Claims.Api.Webhooks;
using Claims.Tests.Infrastructure;
using StandardWebhooks;

namespace Claims.Tests;

/// <summary>
/// Webhooks over HTTP: the app in process on its own database, delivering to a real receiver on
/// loopback (private networks allowed here), retrying after 0.2 s. Each test registers its own
/// subscription, on a path of its own, filtered to a claim of its own.
/// </summary>
public sealed class WebhooksTests(WebhooksTests.Fixture fixture) : IClassFixture<WebhooksTests.Fixture>
{
    private static readonly TimeSpan Arrives = TimeSpan.FromSeconds(15);
    private readonly HttpClient _admin = fixture.Api.CreateClient();
    private WebhookReceiver Receiver => fixture.Receiver;

    [Fact]
    public async Task RegisteringShowsTheSecretOnceAndNoReadEverShowsIt()
    {
        var url = Receiver.NewUrl();
        var created = await (await _admin.PostAsJsonAsync("/webhooks", new { url, eventTypes = new[] { "claim.created", "claim.deleted" } }))
            .ReadJsonAsync(HttpStatusCode.Created);
        var secret = created.Str("secret");
        var id = created.GetProperty("webhook").Id();

        Assert.StartsWith("whsec_", secret);
        Assert.Equal(32, Convert.FromBase64String(secret["whsec_".Length..]).Length);
        Assert.Equal(url, created.GetProperty("webhook").Str("url"));
        var one = await (await _admin.GetAsync($"/webhooks/{id}")).Content.ReadAsStringAsync();
        var list = await (await _admin.GetAsync("/webhooks?limit=200")).Content.ReadAsStringAsync();
        Assert.Contains(id.ToString(), list);
        Assert.DoesNotContain(secret["whsec_".Length..], one);
        Assert.DoesNotContain(secret["whsec_".Length..], list);
        Assert.DoesNotContain("\"secret\"", one);
        var read = JsonDocument.Parse(one).RootElement;
        Assert.Equal(["claim.created", "claim.deleted"], read.GetProperty("eventTypes").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(JsonValueKind.Null, read.GetProperty("disabledAt").ValueKind);
    }

    [Fact]
    public void TheLibrarySignsTheStandardsPublishedTestVectorAsPublished()
    {
        var signature = new StandardWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", DateTimeOffset.FromUnixTimeSeconds(1614265330), """{"test": 2432232314}""");

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
    }

    [Fact]
    public async Task AStatusChangeArrivesAsTheFeedsCloudEventSignedSoThatTheLibrarysVerifierAcceptsIt()
    {
        var claim = await _admin.ClaimAsync();
        var url = Receiver.NewUrl();
        var (id, secret) = await RegisterAsync(url, claim, "claim.status_changed");

        await _admin.SetStatusAsync(claim, "in_review", "Checking the Hromadske count.");

        var received = Assert.Single(await Receiver.WaitForAsync(url, 1, Arrives));
        new StandardWebhook(secret).Verify(received.Body, received.Headers);
        var inFeed = Assert.Single(await _admin.ReadAsync(0, $"&claimId={claim}&type=claim.status_changed"));
        Assert.True(JsonElement.DeepEquals(inFeed, received.Json), $"The delivery's body is the feed's item.\n  webhook: {received.Body}\n  feed:    {inFeed.GetRawText()}");
        Assert.Equal("in_review", received.Json.GetProperty("data").Str("to"));
        var delivery = await OnlyDeliveryAsync(id, "succeeded");
        Assert.Equal(received.Id, delivery.Str("messageId"));
        Assert.Equal(inFeed.Str("id"), delivery.Str("eventId"));
        Assert.Throws<StandardWebhooks.Diagnostics.WebhookVerificationException>(
            () => new StandardWebhook(WebhookRules.NewSecret()).Verify(received.Body, received.Headers));
    }

    [Fact]
    public async Task AReceiverThatFailsTwiceGetsTheEventOnTheThirdAttemptWithTheSameWebhookIdAndTheLogShowsEachAttempt()
    {
        var claim = await _admin.ClaimAsync();
        var url = Receiver.NewUrl(500, 503);
        var (id, secret) = await RegisterAsync(url, claim, "claim.status_changed");

        await _admin.SetStatusAsync(claim, "disputed", "Two outlets disagree.");

        var received = await Receiver.WaitForAsync(url, 3, Arrives);
        Assert.Equal([500, 503, 200], received.Select(r => r.AnsweredWith));
        Assert.Single(received.Select(r => r.Id).Distinct());
        Assert.Single(received.Select(r => r.Body).Distinct());
        foreach (var attempt in received)
        {
            new StandardWebhook(secret).Verify(attempt.Body, attempt.Headers);
        }

        var delivery = await OnlyDeliveryAsync(id, "succeeded");
        Assert.Equal(3, delivery.GetProperty("attempts").GetInt32());
        var log = delivery.GetProperty("attemptLog").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], log.Select(a => a.GetProperty("attempt").GetInt32()));
        Assert.Equal([500, 503, 200], log.Select(a => a.GetProperty("statusCode").GetInt32()));
        Assert.Contains("503", log[1].Str("error"));
        Assert.Equal(JsonValueKind.Null, log[2].GetProperty("error").ValueKind);
    }

    [Fact]
    public async Task AReceiverThatNeverSucceedsFailsTheDeliveryAfterTheScheduleAndAManualRetrySendsItAgain()
    {
        var claim = await _admin.ClaimAsync();
        var url = Receiver.NewUrl(500, 500, 500, 500);
        var (id, _) = await RegisterAsync(url, claim, "claim.status_changed");

        await _admin.SetStatusAsync(claim, "in_review", null);

        // The first attempt and three retries (the schedule here), then nothing more.
        var received = await Receiver.WaitForAsync(url, 4, Arrives);
        var failed = await OnlyDeliveryAsync(id, "failed");
        Assert.Equal(4, failed.GetProperty("attempts").GetInt32());
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("nextAttemptAt").ValueKind);

        var retried = await (await _admin.PostAsync($"/webhooks/{id}/deliveries/{failed.Id()}/retry", null)).ReadJsonAsync(HttpStatusCode.Accepted);
        Assert.Equal("pending", retried.Str("status"));
        var again = await Receiver.WaitForAsync(url, 5, Arrives);
        Assert.Equal(received[0].Id, again[4].Id);
        Assert.Equal(200, again[4].AnsweredWith);
        Assert.Equal(5, (await OnlyDeliveryAsync(id, "succeeded")).GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task AFailureInTheMiddleOfABacklogHoldsTheLaterDeliveriesBackUntilItsRetrySucceeds()
    {
        var source = await _admin.SourceAsync("Hromadske", "outlet", "C");
        // The third request fails once.
        var url = Receiver.NewUrl(200, 200, 500);
        var (id, _) = await RegisterAsync(url, null, "evidence.added");

        // Five events in one transaction, so that they are queued together.
        var claim = await _admin.ClaimAsync(Story.Deserted, [.. Enumerable.Range(1, 5).Select(i => Story.Evidence(source, "supports", $"Desertion report {i}"))]);

        // Delivered, so numbered: the feed has them all by then.
        var received = await Receiver.WaitForAsync(url, 6, Arrives);
        var inFeed = (await _admin.ReadAsync(0, $"&claimId={claim}&type=evidence.added")).Select(e => e.Str("id")).ToList();
        Assert.Equal(5, inFeed.Count);
        Assert.Equal(
            [(inFeed[0], 200), (inFeed[1], 200), (inFeed[2], 500), (inFeed[2], 200), (inFeed[3], 200), (inFeed[4], 200)],
            received.Select(r => (r.Json.Str("id"), r.AnsweredWith)));
        var deliveries = await AllDeliveriesAsync(id, 5, "succeeded");
        // The two held back were not attempted while the third failed: one attempt each.
        Assert.Equal([1, 1, 2, 1, 1], inFeed.Select(e => deliveries[e].GetProperty("attempts").GetInt32()));
    }

    [Fact]
    public async Task RegisteringAgainWithTheSameIdempotencyKeyReplaysTheAnswerWithItsSecretAndRegistersOnce()
    {
        var url = Receiver.NewUrl();
        var body = new { url, eventTypes = new[] { "claim.deleted" }, claimId = Guid.NewGuid() };
        var key = Guid.NewGuid().ToString();

        var first = await PostWithKeyAsync(body, key);
        var firstText = await first.Content.ReadAsStringAsync();
        var second = await PostWithKeyAsync(body, key);

        var created = await first.ReadJsonAsync(HttpStatusCode.Created);
        var replayed = await second.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal(firstText, await second.Content.ReadAsStringAsync());
        Assert.Equal(created.GetProperty("webhook").Id(), replayed.GetProperty("webhook").Id());
        Assert.Equal(created.Str("secret"), replayed.Str("secret"));
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", Assert.Single(second.Headers.GetValues("Idempotent-Replayed")));
        Assert.Single(await SubscriptionsAtAsync(url));
    }

    [Fact]
    public async Task TheSameIdempotencyKeyWithAnotherBodyIs422ProblemAndRegistersNothing()
    {
        var url = Receiver.NewUrl();
        var other = Receiver.NewUrl();
        var key = Guid.NewGuid().ToString();
        await (await PostWithKeyAsync(new { url, eventTypes = new[] { "claim.deleted" } }, key)).ReadJsonAsync(HttpStatusCode.Created);

        var problem = await (await PostWithKeyAsync(new { url = other, eventTypes = new[] { "claim.deleted" } }, key))
            .ReadProblemAsync(HttpStatusCode.UnprocessableEntity);

        Assert.Equal("/problems/idempotency-key-reused", problem.Str("type"));
        Assert.Empty(await SubscriptionsAtAsync(other));
        Assert.Single(await SubscriptionsAtAsync(url));
    }

    [Fact]
    public async Task AReplayAfterARotationShowsTheCurrentSecretAndAfterADeleteIs404()
    {
        var body = new { url = Receiver.NewUrl(), eventTypes = new[] { "claim.deleted" } };
        var key = Guid.NewGuid().ToString();
        var created = await (await PostWithKeyAsync(body, key)).ReadJsonAsync(HttpStatusCode.Created);
        var id = created.GetProperty("webhook").Id();

        var rotated = await (await _admin.PostAsync($"/webhooks/{id}/rotate-secret", null)).ReadJsonAsync(HttpStatusCode.OK);
        var afterRotation = await (await PostWithKeyAsync(body, key)).ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/webhooks/{id}")).StatusCode);
        var afterDelete = await PostWithKeyAsync(body, key);

        Assert.Equal(rotated.Str("secret"), afterRotation.Str("secret"));
        Assert.NotEqual(created.Str("secret"), afterRotation.Str("secret"));
        Assert.Equal(id, afterRotation.GetProperty("webhook").Id());
        var gone = await afterDelete.ReadProblemAsync(HttpStatusCode.NotFound);
        Assert.Contains(id.ToString(), gone.Str("detail"));
        Assert.False(afterDelete.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task A410DisablesTheSubscriptionWithAReasonAndNothingMoreIsSentToIt()
    {
        var claim = await _admin.ClaimAsync();
        var url = Receiver.NewUrlAlways(410);
        var (id, _) = await RegisterAsync(url, claim, "claim.status_changed");

        await _admin.SetStatusAsync(claim, "in_review", null);
        await Receiver.WaitForAsync(url, 1, Arrives);
        var hook = await WaitForDisabledAsync(id);
        await _admin.SetStatusAsync(claim, "disputed", "Two outlets disagree.");
        var test = await (await _admin.PostAsync($"/webhooks/{id}/test", null)).ReadProblemAsync(HttpStatusCode.Conflict);

        Assert.Contains("410", hook.Str("disabledReason"));
        Assert.Equal("/problems/webhook-disabled", test.Str("type"));
        Assert.Contains("410", test.Str("detail"));
        Assert.Equal("failed", (await OnlyDeliveryAsync(id, "failed")).Str("status"));
        // The second change is never sent: give the worker a few rounds to prove it.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Single(Receiver.ReceivedAt(url));
    }

    [Fact]
    public async Task AfterARotationDeliveriesCarryTwoSignaturesAndEachSecretVerifies()
    {
        var url = Receiver.NewUrl();
        var (id, oldSecret) = await RegisterAsync(url, Guid.NewGuid(), "claim.deleted");

        var rotated = await (await _admin.PostAsync($"/webhooks/{id}/rotate-secret", null)).ReadJsonAsync(HttpStatusCode.OK);
        var newSecret = rotated.Str("secret");
        var queued = await (await _admin.PostAsync($"/webhooks/{id}/test", null)).ReadJsonAsync(HttpStatusCode.Accepted);

        var received = Assert.Single(await Receiver.WaitForAsync(url, 1, Arrives));
        Assert.NotEqual(oldSecret, newSecret);
        Assert.NotEqual(JsonValueKind.Null, rotated.GetProperty("webhook").GetProperty("previousSecretUntil").ValueKind);
        var signatures = received.Signature.Split(' ');
        Assert.Equal(2, signatures.Length);
        // One at a time: StandardWebhooks 1.1.2's verifier never reaches the last of several
        // signatures in one header (its loop ends before it), so each is checked on its own here.
        new StandardWebhook(newSecret).Verify(received.Body, received.With(signatures[0]));
        new StandardWebhook(oldSecret).Verify(received.Body, received.With(signatures[1]));
        Assert.Throws<StandardWebhooks.Diagnostics.WebhookVerificationException>(() => new StandardWebhook(oldSecret).Verify(received.Body, received.With(signatures[0])));
        Assert.Equal("webhook.test", received.Json.Str("type"));
        Assert.Equal("webhook.test", queued.Str("eventType"));
        Assert.Equal(queued.Str("messageId"), received.Id);
    }

    [Fact]
    public async Task ARedirectIsNotFollowedButCountsAsAFailedAttempt()
    {
        var target = Receiver.NewUrl();
        var url = Receiver.NewUrlRedirectingTo(target);
        var (id, _) = await RegisterAsync(url, Guid.NewGuid(), "claim.deleted");

        await (await _admin.PostAsync($"/webhooks/{id}/test", null)).ReadJsonAsync(HttpStatusCode.Accepted);

        var failed = await OnlyDeliveryAsync(id, "failed");
        var log = failed.GetProperty("attemptLog").EnumerateArray().ToList();
        Assert.Equal(4, log.Count);
        Assert.All(log, attempt => Assert.Equal(307, attempt.GetProperty("statusCode").GetInt32()));
        Assert.Equal(4, Receiver.ReceivedAt(url).Count);
        Assert.Empty(Receiver.ReceivedAt(target));
    }

    [Fact]
    public async Task UnknownSubscriptionsAndDeliveriesAre404ProblemsAndABadBodyNamesItsFields()
    {
        var missing = Guid.NewGuid();
        var (id, _) = await RegisterAsync(Receiver.NewUrl(), Guid.NewGuid(), "claim.deleted");

        var get = await (await _admin.GetAsync($"/webhooks/{missing}")).ReadProblemAsync(HttpStatusCode.NotFound);
        var retry = await (await _admin.PostAsync($"/webhooks/{id}/deliveries/{missing}/retry", null)).ReadProblemAsync(HttpStatusCode.NotFound);
        var bad = await (await _admin.PostAsJsonAsync("/webhooks", new { url = "not a url", eventTypes = new[] { "claim.exploded" } }))
            .ReadProblemAsync(HttpStatusCode.BadRequest);
        var deleted = await _admin.DeleteAsync($"/webhooks/{id}");
        var gone = await (await _admin.GetAsync($"/webhooks/{id}/deliveries")).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Contains(missing.ToString(), get.Str("detail"));
        Assert.Contains("delivery", retry.Str("detail"));
        Assert.NotEmpty(bad.Errors("url"));
        Assert.NotEmpty(bad.Errors("eventTypes[0]"));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Contains(id.ToString(), gone.Str("detail"));
    }

    private async Task<(Guid Id, string Secret)> RegisterAsync(string url, Guid? claimId, params string[] eventTypes)
    {
        var created = await (await _admin.PostAsJsonAsync("/webhooks", new { url, eventTypes, claimId })).ReadJsonAsync(HttpStatusCode.Created);
        return (created.GetProperty("webhook").Id(), created.Str("secret"));
    }

    private Task<HttpResponseMessage> PostWithKeyAsync(object body, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return _admin.SendAsync(request);
    }

    private async Task<List<JsonElement>> SubscriptionsAtAsync(string url) =>
        [.. (await (await _admin.GetAsync("/webhooks?limit=200")).ReadJsonAsync(HttpStatusCode.OK)).Items().Where(w => w.Str("url") == url)];

    /// <summary>The subscription's <paramref name="count"/> deliveries by event id, once every one has come to <paramref name="status"/>; bounded.</summary>
    private async Task<Dictionary<string, JsonElement>> AllDeliveriesAsync(Guid webhook, int count, string status)
    {
        for (var i = 0; ; i++)
        {
            var items = (await (await _admin.GetAsync($"/webhooks/{webhook}/deliveries?limit=200")).ReadJsonAsync(HttpStatusCode.OK)).Items().ToList();
            if (items.Count == count && items.All(d => d.Str("status") == status))
            {
                return items.ToDictionary(d => d.Str("eventId"));
            }

            Assert.True(i < 150, $"The {count} deliveries did not all come to {status} within 15 s: {string.Join(", ", items)}");
            await Task.Delay(100);
        }
    }

    /// <summary>The subscription's one delivery once it has come to <paramref name="status"/>; bounded.</summary>
    private async Task<JsonElement> OnlyDeliveryAsync(Guid webhook, string status)
    {
        for (var i = 0; ; i++)
        {
            var page = await (await _admin.GetAsync($"/webhooks/{webhook}/deliveries")).ReadJsonAsync(HttpStatusCode.OK);
            var delivery = Assert.Single(page.GetProperty("items").EnumerateArray());
            if (delivery.Str("status") == status)
            {
                return delivery;
            }

            Assert.True(i < 150, $"The delivery did not come to {status} within 15 s: {delivery}");
            await Task.Delay(100);
        }
    }

    private async Task<JsonElement> WaitForDisabledAsync(Guid webhook)
    {
        for (var i = 0; ; i++)
        {
            var hook = await (await _admin.GetAsync($"/webhooks/{webhook}")).ReadJsonAsync(HttpStatusCode.OK);
            if (hook.GetProperty("disabledAt").ValueKind != JsonValueKind.Null)
            {
                return hook;
            }

            Assert.True(i < 150, $"The subscription was not disabled within 15 s: {hook}");
            await Task.Delay(100);
        }
    }

    public sealed class Fixture : WebhookApp;
}
