using Claims.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Claims.Tests;

/// <summary>
/// The RateLimit-Policy and RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-11) on
/// every answer a limit counted. Each test starts its own app with small limits, so its callers'
/// windows open with their first request here; no test comes near the minute a window lasts.
/// </summary>
public sealed class RateLimitHeaderTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task EveryCountedAnswerGivesThePolicyAndTheRequestsLeftCountingDown()
    {
        await using var limited = Limited(requestsPerMinute: 5, writesPerMinute: 3);
        using var client = Client(limited, api.AdminKey);

        var answers = new List<HttpResponseMessage>();
        foreach (var url in new[] { "/claims", "/sources", $"/claims/{Guid.CreateVersion7()}" })
        {
            answers.Add(await client.GetAsync(url));
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.NotFound], answers.Select(a => a.StatusCode));
        Assert.All(answers, a => Assert.Equal("\"requests\";q=5;w=60, \"writes\";q=3;w=60", Single(a, "RateLimit-Policy")));
        var limits = answers.Select(a => Items(a)).ToList();
        Assert.All(limits, l => Assert.Equal(["requests"], l.Keys));
        Assert.Equal([4, 3, 2], limits.Select(l => l["requests"]["r"]));
        var resets = limits.Select(l => l["requests"]["t"]).ToList();
        Assert.All(resets, t => Assert.InRange(t, 1, 60));
        Assert.Equal(resets.OrderDescending(), resets);
    }

    [Fact]
    public async Task ThePolicyFieldListsOnlyTheConfiguredLimits()
    {
        await using var requestsOnly = Limited(requestsPerMinute: 7, writesPerMinute: 0);
        await using var writesOnly = Limited(requestsPerMinute: 0, writesPerMinute: 2);
        using var reader = Client(requestsOnly, api.AdminKey);
        using var writer = Client(writesOnly, api.AdminKey);

        var read = await reader.PostAsJsonAsync("/sources", new { name = "Suspilne", kind = "outlet" });
        var unlimitedRead = await writer.GetAsync("/sources");
        var write = await writer.PostAsJsonAsync("/sources", new { name = "Hromadske", kind = "outlet" });

        Assert.Equal("\"requests\";q=7;w=60", Single(read, "RateLimit-Policy"));
        Assert.Equal(["requests"], Items(read).Keys);
        // With only writes limited, a read is counted by no policy, so it carries neither field.
        await unlimitedRead.ReadJsonAsync(HttpStatusCode.OK);
        Assert.False(unlimitedRead.Headers.Contains("RateLimit-Policy") || unlimitedRead.Headers.Contains("RateLimit"), unlimitedRead.Headers.ToString());
        Assert.Equal("\"writes\";q=2;w=60", Single(write, "RateLimit-Policy"));
        Assert.Equal(1, Items(write)["writes"]["r"]);
    }

    [Fact]
    public async Task A429CarriesRetryAfterAndRateLimitWithNothingLeftThatEndsNoLaterThanRetryAfter()
    {
        await using var limited = Limited(requestsPerMinute: 2, writesPerMinute: 0);
        using var client = Client(limited, api.AdminKey);
        await (await client.GetAsync("/stats")).ReadJsonAsync(HttpStatusCode.OK);
        await (await client.GetAsync("/stats")).ReadJsonAsync(HttpStatusCode.OK);

        var refused = await client.GetAsync("/stats");

        var problem = await refused.ReadProblemAsync(HttpStatusCode.TooManyRequests);
        var retryAfter = (int)refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds;
        var limit = Items(refused)["requests"];
        Assert.Equal(0, limit["r"]);
        Assert.InRange(limit["t"], 1, retryAfter);
        Assert.InRange(retryAfter, 1, 60);
        Assert.Contains($"Retry in {retryAfter} s", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal("\"requests\";q=2;w=60", Single(refused, "RateLimit-Policy"));
    }

    [Fact]
    public async Task TheWritesPolicyCountsWritesOnlyAndAWriteItRefusesSpendsNoRequest()
    {
        await using var limited = Limited(requestsPerMinute: 20, writesPerMinute: 2);
        using var client = Client(limited, api.AdminKey);

        var firstWrite = Items(await Created(client.PostAsJsonAsync("/sources", new { name = "Suspilne", kind = "outlet" })));
        var read = Items(await client.GetAsync("/sources"));
        // A look-up with a body is a POST that only reads.
        var lookUp = Items(await client.PostAsJsonAsync("/claims/statuses", new { ids = new[] { Guid.CreateVersion7() } }));
        var secondWrite = Items(await Created(client.PostAsJsonAsync("/sources", new { name = "Hromadske", kind = "outlet" })));
        var refusedResponse = await client.PostAsJsonAsync("/sources", new { name = "Ukrinform", kind = "outlet" });
        var refused = Items(refusedResponse);
        var readAfter = Items(await client.GetAsync("/sources"));

        Assert.Equal((19, 1), (firstWrite["requests"]["r"], firstWrite["writes"]["r"]));
        Assert.Equal((18, false), (read["requests"]["r"], read.ContainsKey("writes")));
        Assert.Equal((17, false), (lookUp["requests"]["r"], lookUp.ContainsKey("writes")));
        Assert.Equal((16, 0), (secondWrite["requests"]["r"], secondWrite["writes"]["r"]));
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedResponse.StatusCode);
        Assert.Equal((16, 0), (refused["requests"]["r"], refused["writes"]["r"]));
        Assert.Contains("has used up its writes", (await refusedResponse.ReadProblemAsync(HttpStatusCode.TooManyRequests)).Str("detail"), StringComparison.Ordinal);
        Assert.Equal(15, readAfter["requests"]["r"]);
    }

    [Fact]
    public async Task AnswersToCallersWithoutAKeyAreCountedForTheirAddressAndSaySo()
    {
        await using var limited = Limited(requestsPerMinute: 4, writesPerMinute: 0);
        using var anonymous = Client(limited, null);

        var refused = await anonymous.GetAsync("/claims");

        await refused.ReadProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(3, Items(refused)["requests"]["r"]);
    }

    [Fact]
    public async Task HealthAndTheDocumentAreNeverCountedAndCarryNoRateLimitFields()
    {
        await using var limited = Limited(requestsPerMinute: 3, writesPerMinute: 1);
        using var client = Client(limited, api.AdminKey);

        foreach (var url in new[] { "/health/live", "/health/ready", "/swagger/v1/swagger.json" })
        {
            var answer = await client.GetAsync(url);
            Assert.True(answer.IsSuccessStatusCode, $"{url}: {(int)answer.StatusCode}");
            Assert.False(answer.Headers.Contains("RateLimit") || answer.Headers.Contains("RateLimit-Policy"), $"{url}: {answer.Headers}");
        }

        Assert.Equal(2, Items(await client.GetAsync("/stats"))["requests"]["r"]);
    }

    [Fact]
    public async Task WithBothLimitsOffNoAnswerCarriesRateLimitFields()
    {
        using var client = api.CreateClient();
        var answers = new[]
        {
            await client.GetAsync("/claims"),
            await client.PostAsJsonAsync("/sources", new { name = "Suspilne", kind = "outlet" }),
            await client.GetAsync($"/sources/{Guid.CreateVersion7()}"),
        };

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Created, HttpStatusCode.NotFound], answers.Select(a => a.StatusCode));
        Assert.All(answers, a => Assert.False(a.Headers.Contains("RateLimit") || a.Headers.Contains("RateLimit-Policy"), a.Headers.ToString()));
    }

    [Fact]
    public async Task BrowserPagesOfAConfiguredOriginMayReadTheRateLimitFields()
    {
        await using var cors = Limited(requestsPerMinute: 10, writesPerMinute: 0, builder => builder.UseSetting("Cors:AllowedOrigins:0", "https://desk.example.org"));
        using var client = Client(cors, api.AdminKey);
        var read = new HttpRequestMessage(HttpMethod.Get, "/claims?limit=1");
        read.Headers.Add("Origin", "https://desk.example.org");

        var answer = await client.SendAsync(read);

        await answer.ReadJsonAsync(HttpStatusCode.OK);
        var exposed = string.Join(",", answer.Headers.GetValues("Access-Control-Expose-Headers")).Split(',').Select(h => h.Trim()).ToList();
        Assert.Contains("RateLimit", exposed, StringComparer.OrdinalIgnoreCase);
        Assert.Contains("RateLimit-Policy", exposed, StringComparer.OrdinalIgnoreCase);
        Assert.Equal(9, Items(answer)["requests"]["r"]);
    }

    // ---- Helpers -------------------------------------------------------------------------------

    private WebApplicationFactory<Program> Limited(int requestsPerMinute, int writesPerMinute, Action<IWebHostBuilder>? more = null) =>
        api.WithWebHostBuilder(builder =>
        {
            builder.UseSetting("RateLimiting:RequestsPerMinute", requestsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture));
            builder.UseSetting("RateLimiting:WritesPerMinute", writesPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture));
            more?.Invoke(builder);
        });

    private static HttpClient Client(WebApplicationFactory<Program> factory, string? key)
    {
        var client = factory.CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
        }

        return client;
    }

    private static async Task<HttpResponseMessage> Created(Task<HttpResponseMessage> send)
    {
        var response = await send;
        await response.ReadJsonAsync(HttpStatusCode.Created);
        return response;
    }

    private static string Single(HttpResponseMessage response, string header) =>
        Assert.Single(response.Headers.TryGetValues(header, out var values) ? values : []);

    private static Dictionary<string, Dictionary<string, int>> Items(HttpResponseMessage response) => RateLimitFields.Items(response);
}
