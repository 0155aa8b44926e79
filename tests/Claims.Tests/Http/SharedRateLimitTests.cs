using System.Net;
using Claims.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Claims.Tests;

/// <summary>
/// Two instances of the app on one database, as behind a balancer, with the limits counted in
/// PostgreSQL (RateLimiting:Shared, the default outside these tests): a key's quota is the quota
/// whichever instance answers. Each test mints a key of its own, and counts a whole quota within
/// one of the database's minutes.
/// </summary>
public sealed class SharedRateLimitTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const int Quota = 200;

    [Theory]
    [InlineData(true, Quota)]
    [InlineData(false, 2 * Quota)]
    public async Task AKeysQuotaIsTheQuotaAcrossTwoInstancesWhenShared(bool shared, int served)
    {
        await using var a = Instance(shared);
        await using var b = Instance(shared);
        var key = await KeyAsync();
        using var probe = Client(a, api.AdminKey);
        await RateLimitFields.AtLeastLeftInTheMinuteAsync(probe);

        using var onA = Client(a, key);
        using var onB = Client(b, key);
        var answers = new List<HttpStatusCode>();
        // Alternating, as a round-robin balancer sends them, half as many again as either could serve.
        for (var i = 0; i < 3 * Quota; i++)
        {
            answers.Add((await (i % 2 == 0 ? onA : onB).GetAsync("/claims?limit=1")).StatusCode);
        }

        Assert.Equal(served, answers.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(3 * Quota - served, answers.Count(s => s == HttpStatusCode.TooManyRequests));
        // Both instances refuse once the quota is spent, not only the one that spent it last.
        Assert.Equal([HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], answers[^2..]);
    }

    [Fact]
    public async Task TheRequestsLeftThatOneInstanceReportsCountWhatTheOtherServed()
    {
        await using var a = Instance(shared: true);
        await using var b = Instance(shared: true);
        var key = await KeyAsync();
        using var probe = Client(a, api.AdminKey);
        await RateLimitFields.AtLeastLeftInTheMinuteAsync(probe);

        using var onA = Client(a, key);
        for (var i = 0; i < 10; i++)
        {
            await (await onA.GetAsync("/claims?limit=1")).ReadJsonAsync(HttpStatusCode.OK);
        }

        using var onB = Client(b, key);
        var eleventh = await onB.GetAsync("/claims?limit=1");
        await eleventh.ReadJsonAsync(HttpStatusCode.OK);
        // What A served counts, and what A took ahead of need counts too (it asks for the next
        // batch of 5 when it holds 2): r is at most 2 batches below the 189 really left, never above.
        var left = RateLimitFields.Items(eleventh)["requests"]["r"];
        Assert.InRange(left, Quota - 11 - 10, Quota - 11);
    }

    [Fact]
    public async Task AWriteRefusedForItsOwnLimitOnOneInstanceSpendsNoRequestOnEither()
    {
        await using var a = Instance(shared: true, writesPerMinute: 2);
        await using var b = Instance(shared: true, writesPerMinute: 2);
        var key = await KeyAsync();
        using var probe = Client(a, api.AdminKey);
        await RateLimitFields.AtLeastLeftInTheMinuteAsync(probe);

        using var onA = Client(a, key);
        using var onB = Client(b, key);
        await (await onA.PostAsJsonAsync("/sources", new { name = "Ukrinform", kind = "outlet" })).ReadJsonAsync(HttpStatusCode.Created);
        await (await onB.PostAsJsonAsync("/sources", new { name = "Hromadske", kind = "outlet" })).ReadJsonAsync(HttpStatusCode.Created);
        var refused = await onA.PostAsJsonAsync("/sources", new { name = "Suspilne", kind = "outlet" });
        var problem = await refused.ReadProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Contains("writes", problem.Str("detail"), StringComparison.Ordinal);

        // Two writes counted as requests, the refused one not: the rest of the quota is still there.
        var served = 0;
        for (var i = 0; i < 2 * Quota; i++)
        {
            served += (await (i % 2 == 0 ? onA : onB).GetAsync("/sources?limit=1")).StatusCode == HttpStatusCode.OK ? 1 : 0;
        }

        Assert.Equal(Quota - 2, served);
    }

    private WebApplicationFactory<Program> Instance(bool shared, int writesPerMinute = 0) => api.WithWebHostBuilder(builder =>
    {
        builder.UseSetting("RateLimiting:RequestsPerMinute", Quota.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("RateLimiting:WritesPerMinute", writesPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("RateLimiting:Shared", shared ? "true" : "false");
    });

    private async Task<string> KeyAsync()
    {
        using var admin = api.CreateClient();
        var created = await (await admin.PostAsJsonAsync("/admin/keys", new { name = "shared limit " + Guid.NewGuid().ToString("N")[..8], role = "editor" })).ReadJsonAsync(HttpStatusCode.Created);
        return created.Str("key");
    }

    private static HttpClient Client(WebApplicationFactory<Program> factory, string key)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }
}
