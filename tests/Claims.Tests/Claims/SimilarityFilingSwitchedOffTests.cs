using Claims.Api.Claims;
using Claims.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace Claims.Tests;

/// <summary>
/// Claims:FileSimilarity=false, the benchmark's baseline for what filing costs a write: claims are
/// written with NULL similarity keys, so the near-duplicate look-up does not see them until an
/// instance with the switch on starts and its backfill files them.
/// </summary>
public sealed class SimilarityFilingSwitchedOffTests : IClassFixture<ApiFactory>
{
    private readonly ApiFactory _api;
    private readonly HttpClient _client;

    public SimilarityFilingSwitchedOffTests(ApiFactory api)
    {
        _api = api;
        api.Settings["Claims:FileSimilarity"] = "false";
        _client = api.CreateClient();
    }

    [Fact]
    public async Task PostedAndReplacedClaimsAreStoredWithoutKeysAndSimilarDoesNotFindThem()
    {
        const string replaced = "Moldova expelled a Russian diplomat over the Transnistria drone incident.";
        var posted = await _client.ClaimAsync("Moldova summoned the Russian ambassador over a drone that fell near Transnistria.");
        var put = await _client.ClaimAsync("Lithuania closed two border crossings with Belarus.");

        var replacedClaim = await (await _client.PutAsJsonAsync($"/claims/{put}", new { statement = replaced })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(replaced, replacedClaim.Str("statement"));
        Assert.Equal(2, replacedClaim.GetProperty("version").GetInt32());
        foreach (var id in new[] { posted, put })
        {
            Assert.Equal(1, await UnfiledAsync(id));
            Assert.Equal(0, await KeyRowsAsync(id));
        }

        Assert.Empty(await SimilarAsync("Moldova summoned the Russian ambassador over a drone that fell near Transnistria."));
        Assert.Empty(await SimilarAsync(replaced));
    }

    [Fact]
    public async Task ClaimsWrittenWithTheSwitchOffAreFiledWhenAnInstanceWithItOnStarts()
    {
        const string statement = "Georgia detained two men who filmed military sites near Poti for Russian handlers.";
        var id = await _client.ClaimAsync(statement);
        Assert.Empty(await SimilarAsync(statement));

        await using var on = _api.WithWebHostBuilder(builder => builder.UseSetting("Claims:FileSimilarity", "true"));
        using var client = on.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", _api.AdminKey);

        // The backfill runs in the background at start: bounded wait for it to file the claim.
        for (var attempt = 0; attempt < 100 && await UnfiledAsync(id) == 1; attempt++)
        {
            await Task.Delay(100);
        }

        var keys = SimilarityKeys.For(statement);
        Assert.Equal(1, await TestDatabase.ScalarAsync(_api.ConnectionString, $"SELECT count(*) FROM claims WHERE id = '{id}' AND similarity_keys = @value", keys));
        Assert.Equal(keys.Length, await KeyRowsAsync(id));
        var page = await (await client.GetAsync($"/claims/similar?text={Uri.EscapeDataString(statement)}&minScore=1")).ReadJsonAsync(HttpStatusCode.OK);
        var match = Assert.Single(page.GetProperty("items").EnumerateArray());
        Assert.Equal(id, match.GetProperty("claim").Id());
        Assert.Equal(1.0, match.GetProperty("score").GetDouble());
    }

    private Task<long> UnfiledAsync(Guid id) =>
        TestDatabase.ScalarAsync(_api.ConnectionString, "SELECT count(*) FROM claims WHERE id = @value AND similarity_keys IS NULL", id);

    private Task<long> KeyRowsAsync(Guid id) =>
        TestDatabase.ScalarAsync(_api.ConnectionString, "SELECT count(*) FROM claim_similarity_keys WHERE claim_id = @value", id);

    private async Task<List<JsonElement>> SimilarAsync(string text)
    {
        var page = await (await _client.GetAsync($"/claims/similar?text={Uri.EscapeDataString(text)}&minScore=0.5")).ReadJsonAsync(HttpStatusCode.OK);
        return [.. page.GetProperty("items").EnumerateArray()];
    }
}
