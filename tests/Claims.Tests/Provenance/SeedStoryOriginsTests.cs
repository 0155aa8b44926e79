using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// The seed story as the README walks through it: the desertion reports of two outlets and a
/// relay of one of them are one anonymous origin, and Lloyd Austin's support of the US
/// government's claim is the same government again.
/// </summary>
public sealed class SeedStoryOriginsTests : IClassFixture<ApiFactory>
{
    private static readonly Guid Troops = Guid.Parse("0192b8a0-c000-7000-8000-000000000001");
    private static readonly Guid Deserted = Guid.Parse("0192b8a0-c000-7000-8000-000000000004");
    private static readonly Guid Anonymous = Guid.Parse("0192b8a0-5000-7000-8000-000000000005");
    private static readonly Guid Austin = Guid.Parse("0192b8a0-5000-7000-8000-000000000001");

    private readonly HttpClient _client;

    public SeedStoryOriginsTests(ApiFactory api)
    {
        api.Settings["Database:SeedWhenEmpty"] = "true";
        _client = api.CreateClient();
    }

    [Fact]
    public async Task TheDesertionReportsHaveThreeAssertionsAndOneAnonymousOrigin()
    {
        var status = await (await _client.GetAsync($"/claims/{Deserted}/status")).ReadJsonAsync(HttpStatusCode.OK);
        var claim = await (await _client.GetAsync($"/claims/{Deserted}")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(3, status.GetProperty("evidenceCounts").GetProperty("asserts").GetInt32());
        Assert.Equal(1, status.GetProperty("independentOrigins").GetProperty("asserts").GetInt32());
        var anonymous = Assert.Single(claim.GetProperty("origins").EnumerateArray(), g => g.Id() == Anonymous);
        var relayed = claim.GetProperty("evidence").EnumerateArray()
            .Where(e => anonymous.GetProperty("evidenceIds").EnumerateArray().Any(id => id.GetGuid() == e.Id()))
            .Select(e => (e.GetProperty("source").Str("name"), e.Str("stance"), e.TryGetProperty("via", out var via) ? string.Join(" > ", via.EnumerateArray().Select(v => v.Str("name"))) : ""));
        Assert.Equal(
            [("Suspilne", "asserts", "Anonymous sources cited by Suspilne and Hromadske"),
             ("Hromadske", "asserts", "Anonymous sources cited by Suspilne and Hromadske"),
             ("Anonymous sources cited by Suspilne and Hromadske", "asserts", ""),
             ("Business Insider", "mentions", "Suspilne > Anonymous sources cited by Suspilne and Hromadske")],
            relayed);
    }

    [Fact]
    public async Task AustinsSupportOfTheUsGovernmentsClaimIsDiscounted()
    {
        var refused = await _client.SetStatusAsync(Troops, "confirmed", "Austin said so.", HttpStatusCode.Conflict);

        Assert.Equal("/problems/confirm-needs-independent-support", refused.Str("type"));
        var discounted = Assert.Single(refused.GetProperty("discounted").EnumerateArray());
        Assert.Equal(Austin, discounted.GetProperty("sourceId").GetGuid());
        Assert.Equal("Its origin, Lloyd Austin, is one origin with US government, which asserts the claim (joined by 'affiliated_with' or 'derived_from' relations).", discounted.Str("reason"));
        Assert.Equal("in_review", (await (await _client.GetAsync($"/claims/{Troops}/status")).ReadJsonAsync(HttpStatusCode.OK)).Str("status"));
    }
}
