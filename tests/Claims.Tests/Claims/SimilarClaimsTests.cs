using System.Net.Http.Headers;
using Claims.Api.Claims;
using Claims.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Claims.Tests;

/// <summary>
/// Near-duplicates of a statement a reporter is about to log, best first: GET /claims/similar, and
/// POST /claims with checkDuplicates, which refuses to log one. The class's tests share a
/// database, so each near-duplicate test writes about a topic of its own.
/// </summary>
public sealed class SimilarClaimsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const string PossibleDuplicates = "/problems/possible-duplicates";

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
    public async Task PostedAndPatchedClaimsAreFiledUnderTheirStatementsKeysAndFound()
    {
        const string posted = "Romania found drone fragments on its soil after a strike on Izmail.";
        const string patched = "Romania found fragments of a Russian drone near Plauru after a strike on Izmail.";
        var id = await _client.ClaimAsync(posted);
        var filedAtPost = await FiledUnderAsync(id, posted);
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/claims/{id}")
        {
            Content = new StringContent($$"""{"statement":"{{patched}}"}""", new MediaTypeHeaderValue("application/merge-patch+json")),
        };
        patch.Headers.TryAddWithoutValidation("If-Match", "\"1\"");

        Assert.Equal(patched, (await (await _client.SendAsync(patch)).ReadJsonAsync(HttpStatusCode.OK)).Str("statement"));

        Assert.True(filedAtPost);
        Assert.True(await FiledUnderAsync(id, patched));
        var match = Assert.Single(await SimilarAsync($"text={Uri.EscapeDataString(patched)}&minScore=1"));
        Assert.Equal(id, match.GetProperty("claim").Id());
        Assert.Empty(await SimilarAsync($"text={Uri.EscapeDataString(posted)}&minScore=0.9"));
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

    // ---- POST /claims with checkDuplicates ----

    [Fact]
    public async Task CheckDuplicatesRefusesANearDuplicateWith409ListingItAndStoresNothing()
    {
        const string logged = "Wagner recruiters offered Zambian students jobs at the Alabuga drone plant.";
        const string proposed = "Wagner recruiters offered Zambian students jobs in the Alabuga drone plant";
        var original = await _client.ClaimAsync(logged);

        var response = await PostClaimAsync(new { statement = proposed, language = "en", tags = new[] { "wagner" }, checkDuplicates = true });

        var problem = await response.ReadProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(PossibleDuplicates, problem.Str("type"));
        Assert.Equal("Near-duplicates of this claim are logged already.", problem.Str("title"));
        Assert.Equal(409, problem.GetProperty("status").GetInt32());
        Assert.Equal(0.6, problem.GetProperty("minScore").GetDouble());
        Assert.Null(response.Headers.Location);
        var duplicate = Assert.Single(problem.GetProperty("duplicates").EnumerateArray());
        Assert.Equal(0.9351, duplicate.GetProperty("score").GetDouble());
        var claim = duplicate.GetProperty("claim");
        Assert.Equal(original, claim.Id());
        Assert.Equal(logged, claim.Str("statement"));
        Assert.Equal("unverified", claim.Str("status"));
        Assert.Equal("en", claim.Str("language"));
        Assert.Equal(["north-korea", "russia"], claim.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("2024-10-23", claim.Str("firstReportedOn"));
        Assert.Equal(1, claim.GetProperty("version").GetInt32());
        Assert.Equal("bootstrap-admin", claim.Str("createdBy"));
        Assert.Equal(
            $"A logged claim is at least 0.6 similar to this statement, so nothing was stored. Add to one of them, or send the request without checkDuplicates to log it anyway. The closest, at 0.9351, is {original}: \"{logged}\"",
            problem.Str("detail"));
        Assert.Equal(0, await StoredAsync(proposed));
    }

    [Fact]
    public async Task TheProblemListsTheFiveBestAsGetSimilarGivesThemAndNotWhatScoresBelowTheSetting()
    {
        const string proposed = "A ferry carrying grain left Odesa under naval escort on Monday.";
        // Stored out of order; the scores against the proposed statement are in the comments.
        string[] stored =
        [
            "A ferry carrying grain left the port of Odesa on Monday.",         // 0.6286: sixth, left out
            "A ferry carrying wheat left Odesa under naval escort on Monday.",  // 0.8209
            "A grain ferry left Odesa on Monday.",                              // 0.5574: below 0.6
            proposed,                                                           // 1
            "A ferry carrying grain left Odesa under guard on Monday.",         // 0.7273
            "A ferry carrying grain left Odesa under naval escort Monday",      // 0.9672
            "A ferry carrying grain left Odesa under escort on Monday.",        // 0.9016
        ];
        foreach (var statement in stored)
        {
            await _client.ClaimAsync(statement);
        }

        var problem = await (await PostClaimAsync(new { statement = proposed, checkDuplicates = true })).ReadProblemAsync(HttpStatusCode.Conflict);
        var similar = await (await _client.GetAsync($"/claims/similar?text={Uri.EscapeDataString(proposed)}&minScore=0.6&limit=5")).ReadJsonAsync(HttpStatusCode.OK);

        var duplicates = problem.GetProperty("duplicates");
        Assert.Equal([1.0, 0.9672, 0.9016, 0.8209, 0.7273], duplicates.EnumerateArray().Select(d => d.GetProperty("score").GetDouble()));
        Assert.Equal(
            [stored[3], stored[5], stored[6], stored[1], stored[4]],
            duplicates.EnumerateArray().Select(d => d.GetProperty("claim").Str("statement")));
        Assert.Equal(similar.GetProperty("items").GetRawText(), duplicates.GetRawText());
        Assert.StartsWith("5 logged claims are at least 0.6 similar", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(1, await StoredAsync(proposed));
    }

    [Fact]
    public async Task CheckDuplicatesLogsAStatementThatIsCloseButBelowTheSetting()
    {
        const string logged = "Drone debris set fire to an oil depot in Novorossiysk overnight.";
        const string proposed = "Debris from a drone started a fire at the Novorossiysk oil terminal.";
        var original = await _client.ClaimAsync(logged);

        var response = await PostClaimAsync(new { statement = proposed, checkDuplicates = true });

        var created = await response.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal(proposed, created.Str("statement"));
        Assert.Equal($"/claims/{created.Id()}", response.Headers.Location?.OriginalString);
        Assert.Equal(1, await StoredAsync(proposed));
        // Near enough for GET /claims/similar at its default of 0.3, not for the check at 0.6.
        var near = Assert.Single(await SimilarAsync($"text={Uri.EscapeDataString(proposed)}"), i => i.GetProperty("claim").Id() == original);
        Assert.Equal(0.4353, near.GetProperty("score").GetDouble());
    }

    [Theory]
    [InlineData("""{"statement":"Satellite images show new trenches near Robotyne."}""")]
    [InlineData("""{"statement":"Satellite images show new trenches near Robotyne.","checkDuplicates":false}""")]
    [InlineData("""{"statement":"Satellite images show new trenches near Robotyne.","checkDuplicates":null}""")]
    public async Task WithoutTheFlagTheClaimIsLoggedEvenThoughADuplicateExists(string body)
    {
        const string statement = "Satellite images show new trenches near Robotyne.";
        await _client.ClaimAsync(statement);
        var before = await StoredAsync(statement);

        var created = await (await _client.PostRawAsync("/claims", body)).ReadJsonAsync(HttpStatusCode.Created);

        Assert.Equal(statement, created.Str("statement"));
        Assert.Equal(before + 1, await StoredAsync(statement));
        var similar = await SimilarAsync($"text={Uri.EscapeDataString(statement)}&minScore=1&limit=50");
        Assert.Contains(created.Id(), similar.Select(i => i.GetProperty("claim").Id()));
    }

    [Theory]
    [InlineData("uk", "Росія перекинула до Курщини дванадцять тисяч північнокорейських військових.", "Росія перекинула в Курщину дванадцять тисяч північнокорейських військових", 0.9167)]
    [InlineData("ko", "북한군 만이천 명이 쿠르스크 지역으로 이동했다.", "북한군 만이천 명이 쿠르스크로 이동했다", 0.7143)]
    public async Task CheckDuplicatesFindsNearDuplicatesInUkrainianAndKorean(string language, string logged, string proposed, double score)
    {
        var original = (await (await PostClaimAsync(new { statement = logged, language })).ReadJsonAsync(HttpStatusCode.Created)).Id();

        var problem = await (await PostClaimAsync(new { statement = proposed, language, checkDuplicates = true })).ReadProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal(PossibleDuplicates, problem.Str("type"));
        var duplicate = Assert.Single(problem.GetProperty("duplicates").EnumerateArray());
        Assert.Equal(score, duplicate.GetProperty("score").GetDouble());
        Assert.Equal(original, duplicate.GetProperty("claim").Id());
        Assert.Equal(logged, duplicate.GetProperty("claim").Str("statement"));
        Assert.Equal(language, duplicate.GetProperty("claim").Str("language"));
        Assert.Contains(logged, problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(0, await StoredAsync(proposed));
    }

    [Fact]
    public async Task TheSameKeyWithTheFlagIsRefusedAgainWithTheSameDuplicatesAndUsesUpNoKey()
    {
        const string proposed = "Hungary blocked the eighth EU aid package to Ukraine.";
        var original = await _client.ClaimAsync("Hungary blocked the eighth EU aid package for Ukraine.");
        var key = Guid.NewGuid().ToString();
        var body = new { statement = proposed, checkDuplicates = true };

        var first = await PostClaimAsync(body, key);
        var second = await PostClaimAsync(body, key);

        var refused = await first.ReadProblemAsync(HttpStatusCode.Conflict);
        var again = await second.ReadProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(PossibleDuplicates, again.Str("type"));
        Assert.Equal(original, Assert.Single(refused.GetProperty("duplicates").EnumerateArray()).GetProperty("claim").Id());
        Assert.Equal(refused.GetProperty("duplicates").GetRawText(), again.GetProperty("duplicates").GetRawText());
        // Looked at again, not replayed: each answer is its own request's.
        Assert.False(second.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual(refused.Str("requestId"), again.Str("requestId"));
        Assert.Equal(0, await KeysStoredAsync(key));
        Assert.Equal(0, await StoredAsync(proposed));
    }

    [Fact]
    public async Task AfterARefusalTheSameKeyWithoutTheFlagLogsTheClaimAndEveryRetryReplaysIt()
    {
        const string proposed = "Slovakia has halted arms deliveries to Ukraine from its army stocks.";
        await _client.ClaimAsync("Slovakia halted arms deliveries to Ukraine from army stocks.");
        var key = Guid.NewGuid().ToString();
        var flagged = new { statement = proposed, tags = new[] { "slovakia" }, checkDuplicates = true };
        var anyway = new { statement = proposed, tags = new[] { "slovakia" } };

        await (await PostClaimAsync(flagged, key)).ReadProblemAsync(HttpStatusCode.Conflict);
        var logged = await PostClaimAsync(anyway, key);
        var retried = await PostClaimAsync(anyway, key);
        var retriedWithFlag = await PostClaimAsync(flagged, key);

        var created = await logged.ReadJsonAsync(HttpStatusCode.Created);
        Assert.False(logged.Headers.Contains("Idempotent-Replayed"));
        foreach (var replay in new[] { retried, retriedWithFlag })
        {
            Assert.Equal(created.Id(), (await replay.ReadJsonAsync(HttpStatusCode.Created)).Id());
            Assert.Equal("true", Assert.Single(replay.Headers.GetValues("Idempotent-Replayed")));
            Assert.Equal(logged.Headers.Location, replay.Headers.Location);
        }

        Assert.Equal(1, await StoredAsync(proposed));
        Assert.Equal(1, await KeysStoredAsync(key));
    }

    [Fact]
    public async Task ARetryOfAClaimLoggedWithTheFlagReplaysItRatherThanFindingItselfADuplicate()
    {
        const string statement = "Finland closed its last border crossing with Russia.";
        var key = Guid.NewGuid().ToString();
        var body = new { statement, checkDuplicates = true };

        var first = await PostClaimAsync(body, key);
        var retry = await PostClaimAsync(body, key);
        var withoutKey = await PostClaimAsync(body);

        var created = await first.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal(created.Id(), (await retry.ReadJsonAsync(HttpStatusCode.Created)).Id());
        Assert.Equal("true", Assert.Single(retry.Headers.GetValues("Idempotent-Replayed")));
        // A new request, not a retry: the claim logged first is its duplicate now.
        var problem = await withoutKey.ReadProblemAsync(HttpStatusCode.Conflict);
        var duplicate = Assert.Single(problem.GetProperty("duplicates").EnumerateArray());
        Assert.Equal(created.Id(), duplicate.GetProperty("claim").Id());
        Assert.Equal(1.0, duplicate.GetProperty("score").GetDouble());
        Assert.Equal(1, await StoredAsync(statement));
    }

    [Fact]
    public async Task TheScoreThatCountsAsADuplicateIsTheSettingClaimsDuplicateScore()
    {
        await using var strict = api.WithWebHostBuilder(builder => builder.UseSetting("Claims:DuplicateScore", "0.9"));
        using var client = strict.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", api.AdminKey);
        var estonia = await client.ClaimAsync("Estonia expelled a Russian diplomat over sabotage plans.");
        await client.ClaimAsync("Denmark will fund F-16 pilot training for Ukrainian crews.");

        // 0.9636 is a duplicate at 0.9; 0.8305, one at the default 0.6, is not.
        var refused = await (await client.PostAsJsonAsync("/claims", new { statement = "Estonia expelled Russian diplomat over sabotage plans", checkDuplicates = true }))
            .ReadProblemAsync(HttpStatusCode.Conflict);
        var logged = await (await client.PostAsJsonAsync("/claims", new { statement = "Denmark will pay for F-16 pilot training of Ukrainian crews.", checkDuplicates = true }))
            .ReadJsonAsync(HttpStatusCode.Created);

        Assert.Equal(0.9, refused.GetProperty("minScore").GetDouble());
        var duplicate = Assert.Single(refused.GetProperty("duplicates").EnumerateArray());
        Assert.Equal(estonia, duplicate.GetProperty("claim").Id());
        Assert.Equal(0.9636, duplicate.GetProperty("score").GetDouble());
        Assert.Equal("Denmark will pay for F-16 pilot training of Ukrainian crews.", logged.Str("statement"));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0.05")]
    [InlineData("1.5")]
    [InlineData("NaN")]
    public void AClaimsDuplicateScoreOutsideZeroPointOneToOneStopsStartUp(string score)
    {
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Claims", api.ConnectionString);
            b.UseSetting("Claims:DuplicateScore", score);
        });

        var failure = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Claims:DuplicateScore must be between 0.1 and 1.", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckDuplicatesMustBeTrueOrFalse()
    {
        var response = await _client.PostRawAsync("/claims", """{"statement":"Poland shot down a drone over Rzeszów.","checkDuplicates":"yes"}""");

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("/problems/malformed-json", problem.Str("type"));
        Assert.Equal(["Must be true or false."], problem.Errors("checkDuplicates"));
    }

    [Fact]
    public async Task PutAndPatchRefuseCheckDuplicatesByNameAndChangeNothing()
    {
        var id = await _client.ClaimAsync("Latvia recalled its ambassador from Minsk.");
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/claims/{id}")
        {
            Content = new StringContent("""{"summary":"Riga says so.","checkDuplicates":true}""", new MediaTypeHeaderValue("application/merge-patch+json")),
        };
        patch.Headers.TryAddWithoutValidation("If-Match", "\"1\"");

        var put = await (await _client.PutRawAsync($"/claims/{id}", """{"statement":"Latvia recalled its ambassador from Minsk on Friday.","checkDuplicates":true}"""))
            .ReadProblemAsync(HttpStatusCode.BadRequest);
        var patched = await (await _client.SendAsync(patch)).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains("Unknown property 'checkDuplicates'", Assert.Single(put.Errors("checkDuplicates")), StringComparison.Ordinal);
        Assert.StartsWith("Unknown member.", Assert.Single(patched.Errors("checkDuplicates")), StringComparison.Ordinal);
        var claim = await (await _client.GetAsync($"/claims/{id}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(1, claim.GetProperty("version").GetInt32());
        Assert.Equal("Latvia recalled its ambassador from Minsk.", claim.Str("statement"));
    }

    private Task<HttpResponseMessage> PostClaimAsync(object body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/claims") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return _client.SendAsync(request);
    }

    private Task<long> StoredAsync(string statement) =>
        TestDatabase.ScalarAsync(api.ConnectionString, "SELECT count(*) FROM claims WHERE statement = @value", statement);

    /// <summary>Whether the claim's keys, stored and filed, are exactly its statement's.</summary>
    private async Task<bool> FiledUnderAsync(Guid id, string statement)
    {
        var keys = SimilarityKeys.For(statement);
        return await TestDatabase.ScalarAsync(api.ConnectionString, $"SELECT count(*) FROM claims WHERE id = '{id}' AND similarity_keys = @value", keys) == 1
            && await TestDatabase.ScalarAsync(api.ConnectionString, $"SELECT count(*) FROM claim_similarity_keys WHERE claim_id = '{id}' AND key = ANY (@value)", keys) == keys.Length
            && await TestDatabase.ScalarAsync(api.ConnectionString, "SELECT count(*) FROM claim_similarity_keys WHERE claim_id = @value", id) == keys.Length;
    }

    private Task<long> KeysStoredAsync(string key) =>
        TestDatabase.ScalarAsync(api.ConnectionString, "SELECT count(*) FROM idempotency_keys WHERE key = @value", key);

    private async Task<List<JsonElement>> SimilarAsync(string query)
    {
        var page = await (await _client.GetAsync($"/claims/similar?{query}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, page.GetProperty("nextCursor").ValueKind);
        return [.. page.GetProperty("items").EnumerateArray()];
    }
}
