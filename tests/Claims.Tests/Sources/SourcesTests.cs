using Claims.Tests.Infrastructure;

namespace Claims.Tests;

public sealed class SourcesTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task CreatingASourceReturns201WithLocationAndTheStoredFields()
    {
        var response = await _client.PostAsJsonAsync("/sources", new
        {
            name = "Suspilne",
            kind = "outlet",
            description = "Ukrainian public broadcaster.",
            url = "https://suspilne.media/",
            reliability = "C",
        });

        var body = await response.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal($"/sources/{body.Id()}", response.Headers.Location?.OriginalString);
        Assert.Equal(7, body.Id().ToByteArray(bigEndian: true)[6] >> 4);
        Assert.Equal("Suspilne", body.Str("name"));
        Assert.Equal("outlet", body.Str("kind"));
        Assert.Equal("https://suspilne.media/", body.Str("url"));
        Assert.Equal("C", body.Str("reliability"));
        Assert.Equal(1, body.GetProperty("version").GetInt32());

        var read = await (await _client.GetAsync($"/sources/{body.Id()}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("Ukrainian public broadcaster.", read.Str("description"));
    }

    [Fact]
    public async Task ANewSourceWithoutReliabilityIsGradedF()
    {
        var response = await _client.PostAsJsonAsync("/sources", new { name = "Anonymous sources cited by Hromadske", kind = "anonymous" });

        var body = await response.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal("F", body.Str("reliability"));
        Assert.Equal("anonymous", body.Str("kind"));
    }

    [Fact]
    public async Task SocialMediaKindIsWrittenInSnakeCase()
    {
        var response = await _client.PostAsJsonAsync("/sources", new { name = "@DefenceU", kind = "social_media" });

        Assert.Equal("social_media", (await response.ReadJsonAsync(HttpStatusCode.Created)).Str("kind"));
    }

    [Fact]
    public async Task ReplacingASourceChangesItsFieldsAndVersion()
    {
        var id = await _client.SourceAsync("Business Insdier", "outlet", "C");

        var response = await _client.PutAsJsonAsync($"/sources/{id}", new { name = "Business Insider", kind = "outlet", reliability = "B" });

        var body = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("Business Insider", body.Str("name"));
        Assert.Equal("B", body.Str("reliability"));
        Assert.Equal(JsonValueKind.Null, body.GetProperty("description").ValueKind);
        Assert.Equal(2, body.GetProperty("version").GetInt32());
        Assert.True(body.GetProperty("updatedAt").GetDateTime() >= body.GetProperty("createdAt").GetDateTime());
    }

    [Fact]
    public async Task ReplacingAnUnknownSourceIs404Problem()
    {
        var id = Guid.CreateVersion7();

        var response = await _client.PutAsJsonAsync($"/sources/{id}", new { name = "Nobody", kind = "person" });

        var problem = await response.ReadProblemAsync(HttpStatusCode.NotFound);
        Assert.Contains(id.ToString(), problem.Str("detail"));
    }

    [Fact]
    public async Task DeletingAnUncitedSourceRemovesIt()
    {
        var id = await _client.SourceAsync("Robert Collins");

        var delete = await _client.DeleteAsync($"/sources/{id}");

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        await (await _client.GetAsync($"/sources/{id}")).ReadProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeletingACitedSourceIs409AndKeepsSourceAndEvidence()
    {
        var source = await _client.SourceAsync("Bruce W. Bennett");
        var claim = await _client.ClaimAsync("North Korea keeps soldiers' families in Pyongyang as hostages.",
            Story.Evidence(source, "asserts", "remain in Pyongyang as a hostage"));

        var response = await _client.DeleteAsync($"/sources/{source}");

        var problem = await response.ReadProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("1 evidence item", problem.Str("detail"));
        await (await _client.GetAsync($"/sources/{source}")).ReadJsonAsync(HttpStatusCode.OK);
        var stored = await (await _client.GetAsync($"/claims/{claim}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(source, stored.GetProperty("evidence")[0].GetProperty("source").Id());
    }

    [Fact]
    public async Task DeletingAnUnknownSourceIs404Problem()
    {
        await (await _client.DeleteAsync($"/sources/{Guid.CreateVersion7()}")).ReadProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ListingSourcesPagesNewestFirstWithEachSourceOnce()
    {
        var created = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            created.Add(await _client.SourceAsync($"Paging outlet {i}", "outlet"));
        }

        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var url = cursor is null ? "/sources?limit=2" : $"/sources?limit=2&cursor={Uri.EscapeDataString(cursor)}";
            var page = await (await _client.GetAsync(url)).ReadJsonAsync(HttpStatusCode.OK);
            Assert.True(page.GetProperty("items").GetArrayLength() <= 2);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(s => s.Id()));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(seen.Count, seen.Distinct().Count());
        var ours = seen.Where(created.Contains).ToList();
        Assert.Equal(Enumerable.Reverse(created), ours);
    }

    [Theory]
    [InlineData(@"http:\\example.com")]
    [InlineData("mailto:desk@example.org")]
    [InlineData("//suspilne.media/")]
    public async Task AUrlThatIsNotPlainHttpIs400OnTheUrlField(string url)
    {
        var response = await _client.PostAsJsonAsync("/sources", new { name = "Suspilne", kind = "outlet", url });

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("http", problem.Errors("url").Single());
    }
}
