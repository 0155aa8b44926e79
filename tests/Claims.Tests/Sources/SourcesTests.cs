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
        var claim = await _client.ClaimAsync(Story.Hostages,
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

        var seen = (await _client.ReadAllPagesAsync("/sources?limit=2", maxPages: 100)).Select(s => s.Id()).ToList();

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

    // ---- GET /sources ----

    [Theory]
    [InlineData("suspil")]
    [InlineData("Suspilne")]
    [InlineData("SUSPILNE")]
    [InlineData("Suspline")]
    [InlineData("suspilen")]
    public async Task SourceSearchToleratesPartialNamesAndTyposAndRanksTheClosestNameFirst(string q)
    {
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var longer = await _client.SourceAsync("Anonymous sources cited by Suspilne and Hromadske", "anonymous", "F");
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var bennett = await _client.SourceAsync("Bruce W. Story.Bennett", "person", "B");

        var items = await AllSourcesAsync($"q={Uri.EscapeDataString(q)}");

        var ids = items.Select(s => s.Id()).ToList();
        Assert.Contains(suspilne, ids);
        Assert.Equal("Suspilne", items[0].Str("name"));
        Assert.DoesNotContain(hromadske, ids);
        Assert.DoesNotContain(bennett, ids);
        if (ids.Contains(longer))
        {
            Assert.True(ids.IndexOf(suspilne) < ids.IndexOf(longer), "The longer name that merely mentions Suspilne ranks above it.");
        }
    }

    [Fact]
    public async Task SourceSearchFindsAPartOfALongerName()
    {
        var bennett = await _client.SourceAsync("Bruce W. Story.Bennett", "person", "B");
        var insider = await _client.SourceAsync("Business Insider", "outlet", "B");

        var items = await AllSourcesAsync("q=bennet");

        Assert.Contains(bennett, items.Select(s => s.Id()));
        Assert.DoesNotContain(insider, items.Select(s => s.Id()));
        Assert.All(items, s => Assert.Contains("Story.Bennett", s.Str("name"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task SourceSearchTreatsLikeWildcardsAsText()
    {
        await _client.SourceAsync("Hromadske", "outlet", "C");

        var percent = await AllSourcesAsync("q=%25");
        var underscore = await AllSourcesAsync("q=_");

        Assert.Empty(percent);
        Assert.Empty(underscore);
    }

    [Fact]
    public async Task KindAloneReturnsOnlySourcesOfThatKind()
    {
        var agency = await _client.SourceAsync("Ukraine's defense agency", "government", "C");
        var outlet = await _client.SourceAsync("Hromadske", "outlet", "C");

        var items = await AllSourcesAsync("kind=government");

        Assert.All(items, s => Assert.Equal("government", s.Str("kind")));
        Assert.Contains(agency, items.Select(s => s.Id()));
        Assert.DoesNotContain(outlet, items.Select(s => s.Id()));
    }

    [Fact]
    public async Task KindSocialMediaIsWrittenInSnakeCase()
    {
        var account = await _client.SourceAsync("@DefenceU", "social_media", "D");

        var items = await AllSourcesAsync("kind=social_media");

        Assert.Contains(account, items.Select(s => s.Id()));
        Assert.All(items, s => Assert.Equal("social_media", s.Str("kind")));
    }

    [Fact]
    public async Task ReliabilityAloneReturnsOnlySourcesWithThatGrade()
    {
        var austin = await _client.SourceAsync("Lloyd Austin", "person", "B");
        var anonymous = await _client.SourceAsync("Anonymous sources cited by Hromadske", "anonymous", "F");

        var items = await AllSourcesAsync("reliability=B");

        Assert.All(items, s => Assert.Equal("B", s.Str("reliability")));
        Assert.Contains(austin, items.Select(s => s.Id()));
        Assert.DoesNotContain(anonymous, items.Select(s => s.Id()));
    }

    [Fact]
    public async Task SourceQKindAndReliabilityCombine()
    {
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var anonymous = await _client.SourceAsync("Anonymous sources cited by Suspilne", "anonymous", "F");
        var graded = await _client.SourceAsync("Suspilne Kharkiv", "outlet", "B");

        var outlets = await AllSourcesAsync("q=suspil&kind=outlet");
        var gradedC = await AllSourcesAsync("q=suspil&kind=outlet&reliability=C");

        Assert.Contains(suspilne, outlets.Select(s => s.Id()));
        Assert.Contains(graded, outlets.Select(s => s.Id()));
        Assert.DoesNotContain(anonymous, outlets.Select(s => s.Id()));
        Assert.All(outlets, s => Assert.Equal("outlet", s.Str("kind")));
        Assert.Contains(suspilne, gradedC.Select(s => s.Id()));
        Assert.DoesNotContain(graded, gradedC.Select(s => s.Id()));
        Assert.All(gradedC, s => Assert.Equal("C", s.Str("reliability")));
    }

    [Theory]
    [InlineData("kind=blog", "kind", "person, outlet, government, organization, document, social_media, anonymous")]
    [InlineData("kind=Outlet", "kind", "social_media")]
    [InlineData("reliability=Z", "reliability", "A, B, C, D, E, F")]
    [InlineData("reliability=b", "reliability", "A, B, C, D, E, F")]
    [InlineData("limit=0", "limit", "")]
    [InlineData("limit=201", "limit", "")]
    [InlineData("limit=many", "limit", "")]
    [InlineData("cursor=forged", "cursor", "unchanged")]
    public async Task ABadSourceFilterIs400NamingItAndWhatIsAllowed(string query, string parameter, string words)
    {
        var problem = await (await _client.GetAsync($"/sources?{query}")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors(parameter), m => m.Contains(words, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SourceSearchPagesBestFirstWithEachSourceOnce()
    {
        var created = new List<Guid>();
        foreach (var name in new[] { "Hromadske", "Hromadske Kyiv", "Hromadske Odesa", "Hromadske radio", "Anonymous sources cited by Hromadske" })
        {
            created.Add(await _client.SourceAsync(name, "outlet", "C"));
        }

        var whole = (await AllSourcesAsync("q=hromadske", limit: 200)).Select(s => s.Id()).ToList();
        var paged = (await AllSourcesAsync("q=hromadske", limit: 2)).Select(s => s.Id()).ToList();

        Assert.Equal(whole, paged);
        Assert.All(created, id => Assert.Contains(id, paged));
        Assert.Equal("Hromadske", (await SourceAsync(paged[0])).Str("name"));
    }

    [Fact]
    public async Task SourceFilterPagesNewestFirstWithEachSourceOnce()
    {
        var created = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            created.Add(await _client.SourceAsync($"Leaked document {i}", "document", "E"));
        }

        var items = await AllSourcesAsync("kind=document&reliability=E", limit: 2);

        var ours = items.Select(s => s.Id()).Where(created.Contains).ToList();
        Assert.Equal(Enumerable.Reverse(created), ours);
    }

    [Fact]
    public async Task ASourceCursorFromAnotherQueryIs400()
    {
        await _client.SourceAsync("Suspilne", "outlet", "C");
        await _client.SourceAsync("Suspilne Donbas", "outlet", "C");
        var cursor = (await (await _client.GetAsync("/sources?q=suspilne&limit=1")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("nextCursor").GetString()!;

        var sameQuery = await _client.GetAsync($"/sources?q=suspilne&limit=1&cursor={Uri.EscapeDataString(cursor)}");
        var otherQ = await _client.GetAsync($"/sources?q=hromadske&limit=1&cursor={Uri.EscapeDataString(cursor)}");
        var otherKind = await _client.GetAsync($"/sources?q=suspilne&kind=outlet&limit=1&cursor={Uri.EscapeDataString(cursor)}");
        var noQ = await _client.GetAsync($"/sources?limit=1&cursor={Uri.EscapeDataString(cursor)}");

        await sameQuery.ReadJsonAsync(HttpStatusCode.OK);
        Assert.NotEmpty((await otherQ.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors("cursor"));
        Assert.NotEmpty((await otherKind.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors("cursor"));
        Assert.NotEmpty((await noQ.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors("cursor"));
    }

    // ---- GET /sources/{id}/claims ----

    [Fact]
    public async Task ASourcesClaimsCarryTheStanceAndCredibilityOfEachLinkNewestFirst()
    {
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var deserted = await _client.ClaimAsync(Story.Deserted, Story.Evidence(suspilne, "asserts", "18 soldiers deserted", credibility: 3));
        var bennett = await _client.ClaimAsync(Story.Bennett, Story.Evidence(hromadske, "supports"));
        var added = await _client.PostAsJsonAsync($"/claims/{bennett}/evidence", Story.Evidence(suspilne, "unable_to_verify", "could not confirm", credibility: 5));
        var link = (await added.ReadJsonAsync(HttpStatusCode.Created)).Id();

        var page = await (await _client.GetAsync($"/sources/{suspilne}/claims")).ReadJsonAsync(HttpStatusCode.OK);

        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        Assert.Equal(JsonValueKind.Null, page.GetProperty("nextCursor").ValueKind);
        Assert.Equal(link, items[0].GetProperty("evidenceId").GetGuid());
        Assert.Equal("unable_to_verify", items[0].Str("stance"));
        Assert.Equal(5, items[0].GetProperty("credibility").GetInt32());
        Assert.Equal(bennett, items[0].GetProperty("claim").Id());
        Assert.Equal(Story.Bennett, items[0].GetProperty("claim").Str("statement"));
        Assert.Equal("asserts", items[1].Str("stance"));
        Assert.Equal(3, items[1].GetProperty("credibility").GetInt32());
        Assert.Equal(deserted, items[1].GetProperty("claim").Id());
        Assert.Equal("unverified", items[1].GetProperty("claim").Str("status"));
        Assert.True(items[0].GetProperty("linkedAt").GetDateTime() >= items[1].GetProperty("linkedAt").GetDateTime());
    }

    [Fact]
    public async Task ASourceLinkedTwiceToOneClaimListsItTwiceWithEachStance()
    {
        var insider = await _client.SourceAsync("Business Insider", "outlet", "B");
        var claim = await _client.ClaimAsync(Story.Deserted,
            Story.Evidence(insider, "mentions", "reports of desertions"),
            Story.Evidence(insider, "unable_to_verify", "could not independently verify", credibility: 6));

        var page = await (await _client.GetAsync($"/sources/{insider}/claims")).ReadJsonAsync(HttpStatusCode.OK);

        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.All(items, i => Assert.Equal(claim, i.GetProperty("claim").Id()));
        Assert.Equal(["mentions", "unable_to_verify"], items.Select(i => i.Str("stance")).Order());
        Assert.Equal(2, items.Select(i => i.GetProperty("evidenceId").GetGuid()).Distinct().Count());
    }

    [Fact]
    public async Task ASourcesClaimsPageWithEachLinkOnce()
    {
        var bennett = await _client.SourceAsync("Bruce W. Story.Bennett", "person", "B");
        var claims = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            claims.Add(await _client.ClaimAsync($"{Story.Hostages} Report {i}.", Story.Evidence(bennett, "asserts", "remain in Pyongyang as a hostage")));
        }

        var seen = (await _client.ReadAllPagesAsync($"/sources/{bennett}/claims?limit=2", maxPages: 10)).Select(i => i.GetProperty("claim").Id());

        Assert.Equal(Enumerable.Reverse(claims), seen);
    }

    [Fact]
    public async Task ASourceWithoutEvidenceHasNoClaims()
    {
        var collins = await _client.SourceAsync("Robert Collins");

        var page = await (await _client.GetAsync($"/sources/{collins}/claims")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(0, page.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, page.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task TheClaimsOfAnUnknownSourceAre404()
    {
        var unknown = Guid.CreateVersion7();

        var problem = await (await _client.GetAsync($"/sources/{unknown}/claims")).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Contains(unknown.ToString(), problem.Str("detail"));
    }

    [Fact]
    public async Task ASourceClaimsCursorOfAnotherSourceIs400()
    {
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        await _client.ClaimAsync(Story.Deserted, Story.Evidence(suspilne, "asserts"), Story.Evidence(hromadske, "asserts"));
        await _client.ClaimAsync(Story.Bennett, Story.Evidence(suspilne, "mentions"), Story.Evidence(hromadske, "mentions"));
        var cursor = (await (await _client.GetAsync($"/sources/{suspilne}/claims?limit=1")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("nextCursor").GetString()!;

        var response = await _client.GetAsync($"/sources/{hromadske}/claims?limit=1&cursor={Uri.EscapeDataString(cursor)}");

        Assert.NotEmpty((await response.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors("cursor"));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=201", "limit")]
    [InlineData("cursor=forged", "cursor")]
    public async Task ABadSourceClaimsParameterIs400NamingIt(string query, string parameter)
    {
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");

        var problem = await (await _client.GetAsync($"/sources/{hromadske}/claims?{query}")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.NotEmpty(problem.Errors(parameter));
    }

    // ---- helpers ----

    private async Task<List<JsonElement>> AllSourcesAsync(string query, int limit = 200)
    {
        var items = await _client.ReadAllPagesAsync($"/sources?{query}&limit={limit}", maxPages: 1000);
        Assert.Equal(items.Count, items.Select(s => s.Id()).Distinct().Count());
        return items;
    }

    private async Task<JsonElement> SourceAsync(Guid id) =>
        await (await _client.GetAsync($"/sources/{id}")).ReadJsonAsync(HttpStatusCode.OK);
}
