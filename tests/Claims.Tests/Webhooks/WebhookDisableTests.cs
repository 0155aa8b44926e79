using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>A subscription whose deliveries keep failing is disabled: here after two seconds of failures instead of five days.</summary>
public sealed class WebhookDisableTests(WebhookDisableTests.Fixture fixture) : IClassFixture<WebhookDisableTests.Fixture>
{
    [Fact]
    public async Task ASubscriptionFailingLongerThanDisableAfterHoursIsDisabledWithTheReasonAndItsDeliveriesAbandoned()
    {
        using var admin = fixture.Api.CreateClient();
        var url = fixture.Receiver.NewUrlAlways(500);
        var created = await (await admin.PostAsJsonAsync("/webhooks", new { url, eventTypes = new[] { "claim.deleted" }, claimId = Guid.NewGuid() }))
            .ReadJsonAsync(HttpStatusCode.Created);
        var id = created.GetProperty("webhook").Id();

        await (await admin.PostAsync($"/webhooks/{id}/test", null)).ReadJsonAsync(HttpStatusCode.Accepted);
        await (await admin.PostAsync($"/webhooks/{id}/test", null)).ReadJsonAsync(HttpStatusCode.Accepted);

        JsonElement hook;
        for (var i = 0; ; i++)
        {
            hook = await (await admin.GetAsync($"/webhooks/{id}")).ReadJsonAsync(HttpStatusCode.OK);
            if (hook.GetProperty("disabledAt").ValueKind != JsonValueKind.Null)
            {
                break;
            }

            Assert.True(i < 200, $"Not disabled within 20 s of failing: {hook}");
            await Task.Delay(100);
        }

        Assert.Contains("failed for", hook.Str("disabledReason"));
        Assert.Contains("500", hook.Str("disabledReason"));
        var deliveries = (await (await admin.GetAsync($"/webhooks/{id}/deliveries")).ReadJsonAsync(HttpStatusCode.OK)).Items().ToList();
        // Newest first: the second test message never got its turn, since the first was still being retried.
        Assert.Equal(["abandoned", "abandoned"], deliveries.Select(d => d.Str("status")));
        Assert.Equal(0, deliveries[0].GetProperty("attempts").GetInt32());
        Assert.True(deliveries[1].GetProperty("attempts").GetInt32() >= 2);
    }

    /// <summary>Retrying every 0.3 s up to 20 times, and disabling after 2 s of failures.</summary>
    public sealed class Fixture() : WebhookApp(new Dictionary<string, string>
    {
        ["Webhooks:RetrySchedule"] = string.Join(',', Enumerable.Repeat("0.3", 20)),
        ["Webhooks:DisableAfterHours"] = (2.0 / 3600).ToString(System.Globalization.CultureInfo.InvariantCulture),
    });
}
