using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>GET /stats: the dashboard counts, which must agree with what is stored.</summary>
public sealed class StatsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    // ---- GET /stats ----

    [Fact]
    public async Task StatsCountClaimsPerStatusAndAllClaimsSourcesAndEvidence()
    {
        var before = await StatsAsync();
        Assert.Equal(Story.Statuses.Order(), before.GetProperty("claimsByStatus").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(
            before.GetProperty("claimsByStatus").EnumerateObject().Sum(p => p.Value.GetInt64()),
            before.GetProperty("claims").GetInt64());

        // 3 sources, 7 claims (2 unverified, 2 in review, 1 confirmed, 1 false, 1 disputed), 5 evidence items.
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var agency = await _client.SourceAsync("Ukraine's defense agency", "government", "C");
        var austin = await _client.SourceAsync();
        await _client.ClaimAsync(Story.Bennett, Story.Evidence(austin, "asserts"));
        await _client.ClaimAsync(Story.Hostages);
        var review1 = await _client.ClaimAsync(Story.Troops);
        var review2 = await _client.ClaimAsync(Story.Deserted, Story.Evidence(suspilne, "asserts"));
        var confirmed = await _client.ClaimAsync(Story.Deserted, Story.Evidence(suspilne, "supports"));
        var falseClaim = await _client.ClaimAsync(Story.Deserted, Story.Evidence(agency, "refutes"), Story.Evidence(suspilne, "asserts"));
        var disputed = await _client.ClaimAsync(Story.Bennett);
        await _client.SetStatusAsync(review1, "in_review", null);
        await _client.SetStatusAsync(review2, "in_review", null);
        await _client.SetStatusAsync(confirmed, "confirmed", "Suspilne has footage.");
        await _client.SetStatusAsync(falseClaim, "false", "The agency denies it.");
        await _client.SetStatusAsync(disputed, "disputed", "Lloyd Austin and Business Insider disagree.");

        var after = await StatsAsync();

        var expected = new Dictionary<string, long>
        {
            ["unverified"] = 2, ["in_review"] = 2, ["confirmed"] = 1, ["disputed"] = 1, ["false"] = 1, ["inconclusive"] = 0,
        };
        foreach (var status in Story.Statuses)
        {
            Assert.True(
                expected[status] == Count(after, status) - Count(before, status),
                $"{status}: expected {expected[status]} more, before {before}, after {after}");
        }

        Assert.Equal(7, after.GetProperty("claims").GetInt64() - before.GetProperty("claims").GetInt64());
        Assert.Equal(3, after.GetProperty("sources").GetInt64() - before.GetProperty("sources").GetInt64());
        Assert.Equal(5, after.GetProperty("evidence").GetInt64() - before.GetProperty("evidence").GetInt64());
        Assert.Equal(
            after.GetProperty("claimsByStatus").EnumerateObject().Sum(p => p.Value.GetInt64()),
            after.GetProperty("claims").GetInt64());
    }

    [Fact]
    public async Task StatsAgreeWithTheDatabase()
    {
        var source = await _client.SourceAsync("Hromadske", "outlet", "C");
        await _client.ClaimAsync(Story.Deserted, Story.Evidence(source, "asserts"));

        var stats = await StatsAsync();

        await using var connection = new Npgsql.NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        foreach (var status in Story.Statuses)
        {
            await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM claims WHERE status = @status", connection);
            count.Parameters.AddWithValue("status", status);
            Assert.Equal((long)(await count.ExecuteScalarAsync())!, Count(stats, status));
        }

        foreach (var (table, property) in new[] { ("claims", "claims"), ("sources", "sources"), ("evidence", "evidence") })
        {
            await using var count = new Npgsql.NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
            Assert.Equal((long)(await count.ExecuteScalarAsync())!, stats.GetProperty(property).GetInt64());
        }
    }

    private async Task<JsonElement> StatsAsync() =>
        await (await _client.GetAsync("/stats")).ReadJsonAsync(HttpStatusCode.OK);

    private static long Count(JsonElement stats, string status) =>
        stats.GetProperty("claimsByStatus").GetProperty(status).GetInt64();
}
