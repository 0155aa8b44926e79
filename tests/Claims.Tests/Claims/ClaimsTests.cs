using Claims.Tests.Infrastructure;

namespace Claims.Tests;

public sealed class ClaimsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task LoggingAClaimReturns201WithLocationAndAnUnverifiedClaim()
    {
        var response = await _client.PostAsJsonAsync("/claims", new
        {
            statement = Story.Training,
            summary = "Lloyd Austin: \"there is evidence\".",
            language = "en",
            tags = new[] { "North-Korea", " russia ", "north-korea" },
            firstReportedOn = "2024-10-23",
        });

        var body = await response.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal($"/claims/{body.Id()}", response.Headers.Location?.OriginalString);
        Assert.Equal(7, body.Id().ToByteArray(bigEndian: true)[6] >> 4);
        Assert.Equal(Story.Training, body.Str("statement"));
        Assert.Equal("unverified", body.Str("status"));
        Assert.Equal("2024-10-23", body.Str("firstReportedOn"));
        Assert.Equal(["north-korea", "russia"], body.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(0, body.GetProperty("evidence").GetArrayLength());
    }

    [Fact]
    public async Task LanguageDefaultsToEnglish()
    {
        var response = await _client.PostAsJsonAsync("/claims", new { statement = "Desertions have been reported." });

        var body = await response.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal("en", body.Str("language"));
        Assert.Equal(0, body.GetProperty("tags").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("firstReportedOn").ValueKind);
    }

    [Fact]
    public async Task UkrainianAndKoreanClaimsAndTagsAreStoredAsWritten()
    {
        var response = await _client.PostAsJsonAsync("/claims", new
        {
            statement = "Північнокорейські військові дезертирували.",
            language = "uk",
            tags = new[] { "Дезертирство", "북한" },
        });

        var created = await response.ReadJsonAsync(HttpStatusCode.Created);
        var read = await (await _client.GetAsync($"/claims/{created.Id()}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("Північнокорейські військові дезертирували.", read.Str("statement"));
        Assert.Equal(["дезертирство", "북한"], read.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task ReadingAClaimIncludesItsEvidenceWithEachSourcesNameKindAndReliability()
    {
        var austin = await _client.SourceAsync("Lloyd Austin", "person", "B");
        var insider = await _client.SourceAsync("Business Insider", "outlet", "B");
        var claim = await _client.ClaimAsync(Story.Training,
            Story.Evidence(austin, "asserts", "there is evidence", 2),
            Story.Evidence(insider, "unable_to_verify", "could not verify the claims"));

        var body = await (await _client.GetAsync($"/claims/{claim}")).ReadJsonAsync(HttpStatusCode.OK);

        var evidence = body.GetProperty("evidence").EnumerateArray().ToList();
        Assert.Equal(2, evidence.Count);
        var first = evidence.Single(e => e.Str("stance") == "asserts");
        Assert.Equal("Lloyd Austin", first.GetProperty("source").Str("name"));
        Assert.Equal("person", first.GetProperty("source").Str("kind"));
        Assert.Equal("B", first.GetProperty("source").Str("reliability"));
        Assert.Equal("there is evidence", first.Str("quote"));
        Assert.Equal(2, first.GetProperty("credibility").GetInt32());
        var second = evidence.Single(e => e.Str("stance") == "unable_to_verify");
        Assert.Equal(insider, second.GetProperty("source").Id());
        Assert.Equal(6, second.GetProperty("credibility").GetInt32());
    }

    [Fact]
    public async Task ReadingAnUnknownClaimIs404Problem()
    {
        var id = Guid.CreateVersion7();

        var problem = await (await _client.GetAsync($"/claims/{id}")).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Contains(id.ToString(), problem.Str("detail"));
    }

    [Fact]
    public async Task ReplacingAClaimChangesItsFieldsButNotItsStatus()
    {
        var claim = await _client.ClaimAsync("Desertions have been reported.");
        await _client.SetStatusAsync(claim, "in_review", "Checking with Suspilne.");

        var response = await _client.PutAsJsonAsync($"/claims/{claim}", new
        {
            statement = Story.Deserted,
            summary = "Suspilne and Hromadske, citing anonymous sources.",
            language = "en",
            tags = new[] { "desertion" },
            firstReportedOn = "2024-10-22",
        });

        var body = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(Story.Deserted, body.Str("statement"));
        Assert.Equal("2024-10-22", body.Str("firstReportedOn"));
        Assert.Equal(["desertion"], body.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("in_review", body.Str("status"));
        Assert.Equal(3, body.GetProperty("version").GetInt32());
        Assert.False(body.TryGetProperty("evidence", out _));
    }

    [Fact]
    public async Task ReplacingAnUnknownClaimIs404Problem()
    {
        var response = await _client.PutAsJsonAsync($"/claims/{Guid.CreateVersion7()}", new { statement = "Anything." });

        await response.ReadProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeletingAClaimRemovesItWithItsEvidenceAndHistoryButKeepsTheSource()
    {
        var source = await _client.SourceAsync("Hromadske", "outlet", "C");
        var claim = await _client.ClaimAsync("North Korean soldiers have deserted.", Story.Evidence(source, "asserts", "early instances of desertion"));

        var delete = await _client.DeleteAsync($"/claims/{claim}");

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        await (await _client.GetAsync($"/claims/{claim}")).ReadProblemAsync(HttpStatusCode.NotFound);
        await (await _client.GetAsync($"/claims/{claim}/history")).ReadProblemAsync(HttpStatusCode.NotFound);
        await using var connection = new Npgsql.NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        await using var count = new Npgsql.NpgsqlCommand(
            "SELECT (SELECT count(*) FROM evidence WHERE claim_id = @id) + (SELECT count(*) FROM claim_status_changes WHERE claim_id = @id)", connection);
        count.Parameters.AddWithValue("id", claim);
        Assert.Equal(0L, await count.ExecuteScalarAsync());
        // The source is no longer cited, so it can go now.
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/sources/{source}")).StatusCode);
    }

    [Fact]
    public async Task DeletingAnUnknownClaimIs404Problem()
    {
        await (await _client.DeleteAsync($"/claims/{Guid.CreateVersion7()}")).ReadProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ListingClaimsPagesNewestFirstWithEachClaimExactlyOnce()
    {
        var created = new List<Guid>();
        for (var i = 0; i < 7; i++)
        {
            created.Add(await _client.ClaimAsync($"Paging claim {i}"));
        }

        var items = await _client.ReadAllPagesAsync("/claims?limit=3", maxPages: 100);

        Assert.All(items, item => Assert.False(item.TryGetProperty("evidence", out _)));
        var seen = items.Select(c => c.Id()).ToList();
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Equal(Enumerable.Reverse(created), seen.Where(created.Contains));
    }

    [Fact]
    public async Task TheLimitDefaultsToFifty()
    {
        for (var i = 0; i < 51; i++)
        {
            await _client.PostAsJsonAsync("/claims", new { statement = $"Default limit claim {i}" });
        }

        var page = await (await _client.GetAsync("/claims")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(50, page.GetProperty("items").GetArrayLength());
        Assert.NotNull(page.GetProperty("nextCursor").GetString());
    }

    [Fact]
    public async Task EditingTheStatementLeavesTheStatusAnswerAndItsETagAsTheyWere()
    {
        var claim = await _client.ClaimAsync(Story.Training);
        var before = await _client.GetAsync($"/claims/{claim}/status");
        var beforeBody = await before.ReadJsonAsync(HttpStatusCode.OK);

        await (await _client.PutAsJsonAsync($"/claims/{claim}", new { statement = "North Korean soldiers are training in eastern Russia." }))
            .ReadJsonAsync(HttpStatusCode.OK);
        var after = await _client.GetAsync($"/claims/{claim}/status");
        var afterBody = await after.ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(before.Headers.ETag, after.Headers.ETag);
        Assert.Equal(beforeBody.Str("updatedAt"), afterBody.Str("updatedAt"));
    }
}
