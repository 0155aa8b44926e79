using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>GET /claims/similar: near-duplicates of a statement a reporter is about to log, best first.</summary>
public sealed class SimilarClaimsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    // ---- GET /claims/similar ----

    [Fact]
    public async Task SimilarFindsTheNearDuplicateFirstThenCloseStatementsWithScoresBetweenZeroAndOne()
    {
        var training = await _client.ClaimAsync(Story.Training);
        var troops = await _client.ClaimAsync(Story.Troops);
        var unrelated = await _client.ClaimAsync("Lloyd Austin: there is evidence.");

        var items = await SimilarAsync("text=North%20Korean%20soldiers%20are%20training%20in%20Russia&limit=50");

        var ids = items.Select(i => i.GetProperty("claim").Id()).ToList();
        Assert.Equal(Story.Training, items[0].GetProperty("claim").Str("statement"));
        Assert.Contains(training, ids);
        Assert.Contains(troops, ids);
        Assert.DoesNotContain(unrelated, ids);
        Assert.True(ids.IndexOf(training) < ids.IndexOf(troops));
        var scores = items.Select(i => i.GetProperty("score").GetDouble()).ToList();
        Assert.All(scores, s => Assert.InRange(s, 0.3, 1.0));
        Assert.Equal(scores.OrderDescending(), scores);
        Assert.True(scores[ids.IndexOf(training)] > scores[ids.IndexOf(troops)]);
    }

    [Fact]
    public async Task AnIdenticalStatementScoresOne()
    {
        var claim = await _client.ClaimAsync(Story.Hostages);

        var items = await SimilarAsync($"text={Uri.EscapeDataString(Story.Hostages)}");

        var match = Assert.Single(items, i => i.GetProperty("claim").Id() == claim);
        Assert.Equal(1.0, match.GetProperty("score").GetDouble());
    }

    [Fact]
    public async Task MinScoreLeavesOutLessSimilarStatements()
    {
        var training = await _client.ClaimAsync(Story.Training);
        var troops = await _client.ClaimAsync(Story.Troops);

        var strict = await SimilarAsync("text=North%20Korean%20soldiers%20are%20training%20in%20Russia&minScore=0.9&limit=50");
        var loose = await SimilarAsync("text=North%20Korean%20soldiers%20are%20training%20in%20Russia&minScore=0.5&limit=50");

        var strictIds = strict.Select(i => i.GetProperty("claim").Id()).ToList();
        Assert.Contains(training, strictIds);
        Assert.DoesNotContain(troops, strictIds);
        Assert.All(strict, i => Assert.True(i.GetProperty("score").GetDouble() >= 0.9));
        Assert.Contains(troops, loose.Select(i => i.GetProperty("claim").Id()));
        Assert.All(loose, i => Assert.True(i.GetProperty("score").GetDouble() >= 0.5));
    }

    [Fact]
    public async Task SimilarReturnsAtMostLimitClaims()
    {
        await _client.ClaimAsync(Story.Training);
        await _client.ClaimAsync(Story.Troops);
        await _client.ClaimAsync(Story.Deserted);

        var one = await SimilarAsync("text=North%20Korean%20soldiers%20are%20training%20in%20Russia&limit=1&minScore=0.3");
        var two = await SimilarAsync("text=North%20Korean%20soldiers%20are%20training%20in%20Russia&limit=2&minScore=0.3");

        Assert.Single(one);
        Assert.Equal(2, two.Count);
        Assert.Equal(Story.Training, one[0].GetProperty("claim").Str("statement"));
    }

    [Fact]
    public async Task SimilarWithNothingCloseIsAnEmptyList()
    {
        await _client.ClaimAsync(Story.Training);

        var items = await SimilarAsync("text=Pyongyang%20hostages%20families&minScore=0.8");

        Assert.Empty(items);
    }

    [Theory]
    [InlineData("", "text")]
    [InlineData("text=", "text")]
    [InlineData("text=%20%20%20", "text")]
    [InlineData("text=Russia&limit=0", "limit")]
    [InlineData("text=Russia&limit=51", "limit")]
    [InlineData("text=Russia&limit=ten", "limit")]
    [InlineData("text=Russia&minScore=0", "minScore")]
    [InlineData("text=Russia&minScore=0.05", "minScore")]
    [InlineData("text=Russia&minScore=1.5", "minScore")]
    [InlineData("text=Russia&minScore=-1", "minScore")]
    [InlineData("text=Russia&minScore=high", "minScore")]
    public async Task ABadSimilarParameterIs400NamingIt(string query, string parameter)
    {
        var problem = await (await _client.GetAsync($"/claims/similar?{query}")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.NotEmpty(problem.Errors(parameter));
    }

    [Fact]
    public async Task TooLongSimilarTextIs400()
    {
        var problem = await (await _client.GetAsync($"/claims/similar?text={new string('a', 2001)}")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors("text"), m => m.Contains("2000", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SimilarBoundsAreAccepted()
    {
        await _client.ClaimAsync(Story.Training);

        var low = await SimilarAsync($"text={Uri.EscapeDataString(Story.Training)}&limit=50&minScore=0.1");
        var high = await SimilarAsync($"text={Uri.EscapeDataString(Story.Training)}&limit=1&minScore=1");

        Assert.NotEmpty(low);
        Assert.Equal(Story.Training, Assert.Single(high).GetProperty("claim").Str("statement"));
    }

    private async Task<List<JsonElement>> SimilarAsync(string query)
    {
        var page = await (await _client.GetAsync($"/claims/similar?{query}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, page.GetProperty("nextCursor").ValueKind);
        return [.. page.GetProperty("items").EnumerateArray()];
    }
}
