using System.Diagnostics;
using System.Globalization;
using Claims.Api.Auth;
using Claims.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Claims.Tests;

/// <summary>
/// Guessing keys costs the guesser, not the database: an unknown key of the issued shape is looked
/// up once and then remembered for a few seconds, and an address that fails too often has its keys
/// refused with 429 without a look-up. Whether a key was looked up is shown by PostgreSQL itself:
/// with the keys table locked, a look-up waits, so an answer means there was none.
/// </summary>
[Collection(TimeBound.Name)]
public sealed class KeyGuessingTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const string TooMany = "Too many failed authentications from this address";

    private readonly HttpClient _admin = api.CreateClient();

    [Fact]
    public async Task RepeatingAnUnknownKeyOfTheIssuedShapeLooksItUpInTheDatabaseOnlyOnce()
    {
        using var guesser = api.CreateClient(ApiKeyStore.NewSecret(), sendCurrentETag: false);
        await AssertUnknownKeyAsync(await guesser.GetAsync("/claims"));

        using var another = api.CreateClient(ApiKeyStore.NewSecret(), sendCurrentETag: false);
        Task<HttpResponseMessage> anotherGuess;
        await using (var locked = await TableLock.TakeAsync(api.ConnectionString, "api_keys"))
        {
            for (var i = 0; i < 20; i++)
            {
                await AssertUnknownKeyAsync(await guesser.GetAsync("/claims"), "a 503 means the repeated guess was looked up again and waited for the lock");
            }

            // The lock does catch look-ups: a key not sent before waits for it.
            anotherGuess = another.GetAsync("/claims");
            await locked.WaitUntilSomeoneWaitsAsync(TimeSpan.FromSeconds(4));
        }

        await AssertUnknownKeyAsync(await anotherGuess);
    }

    [Fact]
    public async Task AfterFiveFailedAuthenticationsTheAddressesNextKeyIs429ProblemWithRetryAfterWithoutALookUp()
    {
        await using var limited = WithFailureLimit(5);
        var revoked = await CreateKeyAsync("Revoked Business Insider reader");
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/admin/keys/{revoked.Id}")).StatusCode);
        string[] failures = ["clm_NotAKeyThatWasEverIssued", ApiKeyStore.NewSecret(), revoked.Secret, "test-admin-not-quite-the-bootstrap-key", ApiKeyStore.NewSecret()];
        foreach (var key in failures)
        {
            using var client = Client(limited, key);
            await AssertUnknownKeyAsync(await client.GetAsync("/claims"));
        }

        HttpResponseMessage sixth;
        await using (await TableLock.TakeAsync(api.ConnectionString, "api_keys"))
        {
            using var client = Client(limited, ApiKeyStore.NewSecret());
            sixth = await client.GetAsync("/claims");
        }

        var problem = await sixth.ReadProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal("Too many failed authentications.", problem.Str("title"));
        Assert.Contains(TooMany, problem.Str("detail"));
        Assert.Contains("the limit is 5 a minute", problem.Str("detail"));
        // Failures are allowed again at 5 a minute, one every 12 s.
        Assert.Equal(TimeSpan.FromSeconds(12), sixth.Headers.RetryAfter?.Delta);
        Assert.Contains("Retry in 12 s", problem.Str("detail"));
    }

    [Fact]
    public async Task AKeyInUseKeepsWorkingFromAnAddressRefusedForFailedAuthenticationsWhileKeysItHasNotUsedAre429()
    {
        await using var limited = WithFailureLimit(5);
        await WaitUntilListeningAsync(limited);
        var inUse = await CreateKeyAsync("Suspilne desk");
        var notYetUsed = await CreateKeyAsync("Hromadske desk");
        using var desk = Client(limited, inUse.Secret);
        await (await desk.GetAsync("/claims")).ReadJsonAsync(HttpStatusCode.OK);
        for (var i = 0; i < 5; i++)
        {
            using var guesser = Client(limited, ApiKeyStore.NewSecret());
            await AssertUnknownKeyAsync(await guesser.GetAsync("/claims"));
        }

        using var nextGuess = Client(limited, ApiKeyStore.NewSecret());
        using var otherDesk = Client(limited, notYetUsed.Secret);
        using var anonymous = Client(limited, null);
        var refused = await nextGuess.GetAsync("/claims");
        var kept = await desk.GetAsync("/claims");
        var notChecked = await otherDesk.GetAsync("/claims");
        var withoutKey = await anonymous.GetAsync("/claims");

        Assert.Contains(TooMany, (await refused.ReadProblemAsync(HttpStatusCode.TooManyRequests)).Str("detail"));
        await kept.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Contains(TooMany, (await notChecked.ReadProblemAsync(HttpStatusCode.TooManyRequests)).Str("detail"));
        // Sending no key costs no look-up, so it is not refused for the failures: it is told to send one.
        Assert.Contains("Send your key", (await withoutKey.ReadProblemAsync(HttpStatusCode.Unauthorized)).Str("detail"));
    }

    [Fact]
    public async Task FailedAuthenticationsAreCountedForEachClientAddressApart()
    {
        await using var server = await ApiServer.StartAsync(api.ConnectionString, new Dictionary<string, string> { ["Auth:FailedAuthenticationsPerMinute"] = "3" });
        var guesser = IPAddress.Loopback;
        var neighbour = IPAddress.Parse("127.0.0.2");
        for (var i = 0; i < 3; i++)
        {
            using var client = server.CreateClient(ApiKeyStore.NewSecret(), from: guesser);
            await AssertUnknownKeyAsync(await client.GetAsync("/claims"));
        }

        using var guess = server.CreateClient(ApiKeyStore.NewSecret(), from: guesser);
        using var neighbourGuess = server.CreateClient(ApiKeyStore.NewSecret(), from: neighbour);
        using var bootstrap = server.CreateClient(server.AdminKey, from: guesser);
        var refused = await guess.GetAsync("/claims");
        var counted = await neighbourGuess.GetAsync("/claims");
        var admin = await bootstrap.GetAsync("/claims");

        var problem = await refused.ReadProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Contains("the limit is 3 a minute", problem.Str("detail"));
        await AssertUnknownKeyAsync(counted);
        // The bootstrap key is checked in memory, so it is never refused for the address's failures.
        await admin.ReadJsonAsync(HttpStatusCode.OK);
    }

    private WebApplicationFactory<Program> WithFailureLimit(int perMinute) =>
        api.WithWebHostBuilder(b => b.UseSetting("Auth:FailedAuthenticationsPerMinute", perMinute.ToString(CultureInfo.InvariantCulture)));

    private static HttpClient Client(WebApplicationFactory<Program> app, string? key)
    {
        var client = app.CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
        }

        return client;
    }

    /// <summary>Found keys are kept only while the instance listens for changes; a test of a kept key waits for that.</summary>
    private static async Task WaitUntilListeningAsync(WebApplicationFactory<Program> app)
    {
        var cache = app.Services.GetRequiredService<KeyCache>();
        var clock = Stopwatch.StartNew();
        while (!cache.IsListening)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "The instance did not start listening for API key changes within 30 s.");
            await Task.Delay(50);
        }
    }

    private static async Task AssertUnknownKeyAsync(HttpResponseMessage response, string? why = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"Expected 401, got {(int)response.StatusCode}{(why is null ? "" : $" ({why})")}: {text}");
        var problem = await response.ReadProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("unknown or revoked", problem.Str("detail"));
    }

    private async Task<(Guid Id, string Secret)> CreateKeyAsync(string name)
    {
        var body = await (await _admin.PostAsJsonAsync("/admin/keys", new { name, role = "reader" })).ReadJsonAsync(HttpStatusCode.Created);
        return (body.Id(), body.Str("key"));
    }
}
