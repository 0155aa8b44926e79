using Claims.Tests.Infrastructure;

namespace Claims.Tests;

public sealed class EvidenceTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task AddingEvidenceReturns201WithLocationAndTheCitedSource()
    {
        var source = await _client.SourceAsync("Business Insider", "outlet", "B");
        var claim = await _client.ClaimAsync(Story.Deserted);

        var response = await _client.PostAsJsonAsync($"/claims/{claim}/evidence", new
        {
            sourceId = source,
            stance = "unable_to_verify",
            quote = "Business Insider could not independently verify the reports.",
        });

        var body = await response.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal($"/claims/{claim}/evidence/{body.Id()}", response.Headers.Location?.OriginalString);
        Assert.Equal(claim, body.GetProperty("claimId").GetGuid());
        var cited = body.GetProperty("source");
        Assert.Equal(source, cited.Id());
        Assert.Equal("Business Insider", cited.Str("name"));
        Assert.Equal("outlet", cited.Str("kind"));
        Assert.Equal("B", cited.Str("reliability"));
        Assert.Equal("unable_to_verify", body.Str("stance"));
        Assert.Equal("Business Insider could not independently verify the reports.", body.Str("quote"));
        Assert.Equal(6, body.GetProperty("credibility").GetInt32());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("url").ValueKind);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("note").ValueKind);

        var read = await (await _client.GetAsync(response.Headers.Location)).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(body.Id(), read.Id());
        Assert.Equal("unable_to_verify", read.Str("stance"));
        Assert.Equal("Business Insider", read.GetProperty("source").Str("name"));
    }

    [Fact]
    public async Task EvidenceKeepsItsCredibilityUrlNoteAndPublicationTime()
    {
        var source = await _client.SourceAsync("Suspilne", "outlet", "C");
        var claim = await _client.ClaimAsync(Story.Deserted);

        var response = await _client.PostAsJsonAsync($"/claims/{claim}/evidence", new
        {
            sourceId = source,
            stance = "asserts",
            quote = "18 North Korean soldiers deserted",
            url = "https://suspilne.media/",
            publishedAt = "2024-10-23T12:00:00+03:00",
            note = "Citing anonymous sources.",
            credibility = 4,
        });

        var body = await response.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal(4, body.GetProperty("credibility").GetInt32());
        Assert.Equal("https://suspilne.media/", body.Str("url"));
        Assert.Equal("Citing anonymous sources.", body.Str("note"));
        Assert.Equal(new DateTimeOffset(2024, 10, 23, 9, 0, 0, TimeSpan.Zero), body.GetProperty("publishedAt").GetDateTimeOffset());
        Assert.Equal("asserts", body.Str("stance"));
    }

    [Fact]
    public async Task AddingEvidenceToAnUnknownClaimIs404Problem()
    {
        var source = await _client.SourceAsync();
        var unknown = Guid.CreateVersion7();

        var response = await _client.PostAsJsonAsync($"/claims/{unknown}/evidence", Story.Evidence(source, "asserts"));

        var problem = await response.ReadProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("/problems/not-found", problem.Str("type"));
        Assert.Equal($"There is no claim with id {unknown}.", problem.Str("detail"));
    }

    [Fact]
    public async Task AddingEvidenceWithAnUnknownSourceIs400NamingSourceIdAndStoresNothing()
    {
        var claim = await _client.ClaimAsync(Story.Deserted);
        var unknown = Guid.CreateVersion7();

        var response = await _client.PostAsJsonAsync($"/claims/{claim}/evidence", Story.Evidence(unknown, "asserts"));

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors("sourceId"), m => m.Contains(unknown.ToString(), StringComparison.Ordinal));
        var stored = await GetClaimAsync(claim);
        Assert.Equal(1, stored.GetProperty("version").GetInt32());
        Assert.Equal(0, stored.GetProperty("evidence").GetArrayLength());
    }

    [Fact]
    public async Task AddingAndRemovingEvidenceMovesTheClaimVersion()
    {
        var source = await _client.SourceAsync("Hromadske", "outlet", "C");
        var claim = await _client.ClaimAsync(Story.Deserted);
        var before = await GetClaimAsync(claim);

        var evidence = await AddEvidenceAsync(claim, source, "asserts");

        var afterAdd = await GetClaimAsync(claim);
        Assert.Equal(1, before.GetProperty("version").GetInt32());
        Assert.Equal(2, afterAdd.GetProperty("version").GetInt32());
        Assert.True(afterAdd.GetProperty("updatedAt").GetDateTime() >= before.GetProperty("updatedAt").GetDateTime());

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/claims/{claim}/evidence/{evidence}")).StatusCode);
        Assert.Equal(3, (await GetClaimAsync(claim)).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task ListingEvidenceIsAPageNewestFirst()
    {
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var insider = await _client.SourceAsync("Business Insider", "outlet", "B");
        var claim = await _client.ClaimAsync(Story.Deserted);
        var added = new List<Guid>
        {
            await AddEvidenceAsync(claim, suspilne, "asserts"),
            await AddEvidenceAsync(claim, hromadske, "asserts"),
            await AddEvidenceAsync(claim, insider, "unable_to_verify"),
        };

        var page = await (await _client.GetAsync($"/claims/{claim}/evidence")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(JsonValueKind.Null, page.GetProperty("nextCursor").ValueKind);
        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Reverse(added), items.Select(i => i.Id()));
        Assert.Equal(["Business Insider", "Hromadske", "Suspilne"], items.Select(i => i.GetProperty("source").Str("name")));
        Assert.Equal(["unable_to_verify", "asserts", "asserts"], items.Select(i => i.Str("stance")));
        Assert.All(items, i => Assert.Equal(claim, i.GetProperty("claimId").GetGuid()));
    }

    [Fact]
    public async Task ListingEvidencePagesWithLimitAndGivesEachItemOnce()
    {
        var source = await _client.SourceAsync("Hromadske", "outlet", "C");
        var claim = await _client.ClaimAsync(Story.Deserted);
        var added = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            added.Add(await AddEvidenceAsync(claim, source, "mentions", $"report {i}"));
        }

        var pages = await _client.ReadPagesAsync($"/claims/{claim}/evidence?limit=2", maxPages: 10);

        Assert.Equal([2, 2, 1], pages.Select(p => p.Items().Count()));
        Assert.Equal(Enumerable.Reverse(added), pages.SelectMany(Paging.Items).Select(e => e.Id()));
    }

    [Fact]
    public async Task ListingEvidenceOfAnUnknownClaimIs404Problem()
    {
        var unknown = Guid.CreateVersion7();

        var problem = await (await _client.GetAsync($"/claims/{unknown}/evidence")).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Contains(unknown.ToString(), problem.Str("detail"));
    }

    [Fact]
    public async Task ReadingOneEvidenceItemGivesItWithItsSource()
    {
        var source = await _client.SourceAsync("Bruce W. Bennett", "person", "B");
        var claim = await _client.ClaimAsync(Story.Hostages);
        var evidence = await AddEvidenceAsync(claim, source, "asserts", "remain in Pyongyang as a hostage", credibility: 3);

        var body = await (await _client.GetAsync($"/claims/{claim}/evidence/{evidence}")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(evidence, body.Id());
        Assert.Equal(claim, body.GetProperty("claimId").GetGuid());
        Assert.Equal("remain in Pyongyang as a hostage", body.Str("quote"));
        Assert.Equal(3, body.GetProperty("credibility").GetInt32());
        Assert.Equal("Bruce W. Bennett", body.GetProperty("source").Str("name"));
        Assert.Equal("person", body.GetProperty("source").Str("kind"));
    }

    [Fact]
    public async Task ReadingEvidenceThroughAnotherClaimIs404Problem()
    {
        var source = await _client.SourceAsync("Bruce W. Bennett", "person", "B");
        var claim = await _client.ClaimAsync(Story.Hostages);
        var other = await _client.ClaimAsync(Story.Deserted);
        var evidence = await AddEvidenceAsync(claim, source, "asserts");

        var problem = await (await _client.GetAsync($"/claims/{other}/evidence/{evidence}")).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Contains(evidence.ToString(), problem.Str("detail"));
        await (await _client.GetAsync($"/claims/{claim}/evidence/{evidence}")).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ReadingAnUnknownEvidenceItemIs404Problem()
    {
        var claim = await _client.ClaimAsync(Story.Deserted);
        var unknown = Guid.CreateVersion7();

        var problem = await (await _client.GetAsync($"/claims/{claim}/evidence/{unknown}")).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Contains(unknown.ToString(), problem.Str("detail"));
    }

    [Fact]
    public async Task DeletingEvidenceIs204AndThenItIsGone()
    {
        var source = await _client.SourceAsync("Hromadske", "outlet", "C");
        var claim = await _client.ClaimAsync(Story.Deserted);
        var kept = await AddEvidenceAsync(claim, source, "asserts", "first report");
        var removed = await AddEvidenceAsync(claim, source, "mentions", "second report");

        var delete = await _client.DeleteAsync($"/claims/{claim}/evidence/{removed}");

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Empty(await delete.Content.ReadAsByteArrayAsync());
        await (await _client.GetAsync($"/claims/{claim}/evidence/{removed}")).ReadProblemAsync(HttpStatusCode.NotFound);
        await (await _client.DeleteAsync($"/claims/{claim}/evidence/{removed}")).ReadProblemAsync(HttpStatusCode.NotFound);
        var stored = await GetClaimAsync(claim);
        Assert.Equal([kept], stored.GetProperty("evidence").EnumerateArray().Select(e => e.Id()));
    }

    [Fact]
    public async Task DeletingTheOnlySupportingEvidenceOfAConfirmedClaimIs409AndKeepsIt()
    {
        var austin = await _client.SourceAsync();
        var government = await _client.SourceAsync("US government", "government", "B");
        var claim = await _client.ClaimAsync(Story.Training,
            Story.Evidence(austin, "asserts"), Story.Evidence(government, "supports", "North Korean troops might be in Russia"));
        await _client.SetStatusAsync(claim, "confirmed", "Two US officials on the record.");
        var supporting = (await GetClaimAsync(claim)).GetProperty("evidence").EnumerateArray()
            .Single(e => e.Str("stance") == "supports").Id();

        var response = await _client.DeleteAsync($"/claims/{claim}/evidence/{supporting}");

        var problem = await response.ReadProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("'supports'", problem.Str("detail"));
        await (await _client.GetAsync($"/claims/{claim}/evidence/{supporting}")).ReadJsonAsync(HttpStatusCode.OK);
        var status = await (await _client.GetAsync($"/claims/{claim}/status")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("confirmed", status.Str("status"));
        Assert.Equal(1, status.GetProperty("evidenceCounts").GetProperty("supports").GetInt32());
    }

    [Fact]
    public async Task DeletingOneOfTwoSupportingItemsOfAConfirmedClaimIsAllowed()
    {
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var claim = await _client.ClaimAsync(Story.Deserted,
            Story.Evidence(suspilne, "supports", "18 soldiers deserted"), Story.Evidence(hromadske, "supports", "18 soldiers deserted"));
        await _client.SetStatusAsync(claim, "confirmed", "Two Ukrainian outlets.");
        var first = (await GetClaimAsync(claim)).GetProperty("evidence")[0].Id();

        var delete = await _client.DeleteAsync($"/claims/{claim}/evidence/{first}");

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        var status = await (await _client.GetAsync($"/claims/{claim}/status")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("confirmed", status.Str("status"));
        Assert.Equal(1, status.GetProperty("evidenceCounts").GetProperty("supports").GetInt32());
    }

    [Fact]
    public async Task DeletingTheOnlyRefutingEvidenceOfAFalseClaimIs409()
    {
        var agency = await _client.SourceAsync("Ukraine's defense agency", "government", "C");
        var claim = await _client.ClaimAsync("North Korean soldiers are fighting in Kyiv.", Story.Evidence(agency, "refutes", "no such reports"));
        await _client.SetStatusAsync(claim, "false", "The defense agency denies it.");
        var refuting = (await GetClaimAsync(claim)).GetProperty("evidence")[0].Id();

        var problem = await (await _client.DeleteAsync($"/claims/{claim}/evidence/{refuting}")).ReadProblemAsync(HttpStatusCode.Conflict);

        Assert.Contains("'refutes'", problem.Str("detail"));
        await (await _client.GetAsync($"/claims/{claim}/evidence/{refuting}")).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ConcurrentDeletesNeverLeaveAConfirmedClaimWithoutSupportingEvidence()
    {
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");

        // Each round races two deletes; one of them must be refused, whatever the interleaving.
        for (var round = 0; round < 5; round++)
        {
            var claim = await _client.ClaimAsync(Story.Deserted,
                Story.Evidence(suspilne, "supports", "18 soldiers deserted"), Story.Evidence(hromadske, "supports", "18 soldiers deserted"));
            await _client.SetStatusAsync(claim, "confirmed", "Two Ukrainian outlets.");
            var items = (await GetClaimAsync(claim)).GetProperty("evidence").EnumerateArray().Select(e => e.Id()).ToList();

            var responses = await Task.WhenAll(items.Select(e => _client.DeleteAsync($"/claims/{claim}/evidence/{e}")));

            var status = await (await _client.GetAsync($"/claims/{claim}/status")).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal("confirmed", status.Str("status"));
            Assert.True(status.GetProperty("evidenceCounts").GetProperty("supports").GetInt32() == 1,
                $"Round {round}: the deletes answered {string.Join(" and ", responses.Select(r => (int)r.StatusCode))}, leaving {status}");
            Assert.Equal([HttpStatusCode.NoContent, HttpStatusCode.Conflict], responses.Select(r => r.StatusCode).Order());
        }
    }

    [Fact]
    public async Task CreatingAClaimWithEvidenceStoresEverythingInOneGo()
    {
        var austin = await _client.SourceAsync("Lloyd Austin", "person", "B");
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var insider = await _client.SourceAsync("Business Insider", "outlet", "B");

        var response = await _client.PostAsJsonAsync("/claims", new
        {
            statement = Story.Training,
            tags = new[] { "north-korea", "russia" },
            evidence = new object[]
            {
                new { sourceId = austin, stance = "asserts", quote = "there is evidence", credibility = 2 },
                new { sourceId = suspilne, stance = "supports", quote = "training at Russian ranges" },
                new { sourceId = insider, stance = "unable_to_verify", quote = "could not independently verify" },
            },
        });

        var created = await response.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal(3, created.GetProperty("evidence").GetArrayLength());
        Assert.Equal(1, created.GetProperty("version").GetInt32());

        var stored = await GetClaimAsync(created.Id());
        var evidence = stored.GetProperty("evidence").EnumerateArray().ToDictionary(e => e.GetProperty("source").Id());
        Assert.Equal(3, evidence.Count);
        AssertCites(evidence[austin], "Lloyd Austin", "person", "B", "asserts", "there is evidence", 2);
        AssertCites(evidence[suspilne], "Suspilne", "outlet", "C", "supports", "training at Russian ranges", 6);
        AssertCites(evidence[insider], "Business Insider", "outlet", "B", "unable_to_verify", "could not independently verify", 6);
        Assert.All(evidence.Values, e => Assert.Equal(created.Id(), e.GetProperty("claimId").GetGuid()));

        var listed = await (await _client.GetAsync($"/claims/{created.Id()}/evidence")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(3, listed.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task EvidenceGivenWithANewClaimKeepsTheOrderItWasGivenIn()
    {
        var names = new[] { "Lloyd Austin", "US government", "Suspilne", "Hromadske", "Business Insider", "Ukraine's defense agency" };
        var sources = new List<Guid>();
        foreach (var name in names)
        {
            sources.Add(await _client.SourceAsync(name));
        }

        var claim = await _client.ClaimAsync(Story.Deserted, [.. sources.Select(s => Story.Evidence(s, "mentions"))]);

        var stored = await GetClaimAsync(claim);
        Assert.Equal(names, stored.GetProperty("evidence").EnumerateArray().Select(e => e.GetProperty("source").Str("name")));
    }

    [Fact]
    public async Task CreatingAClaimCitingAnUnknownSourceIs400AndStoresNoClaim()
    {
        var unknown = Guid.CreateVersion7();
        var statement = $"North Korean soldiers deserted near Kursk ({Guid.NewGuid():N}).";

        var response = await _client.PostAsJsonAsync("/claims", new
        {
            statement,
            evidence = new[] { Story.Evidence(unknown, "asserts", "18 North Korean soldiers deserted") },
        });

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors("evidence[0].sourceId"), m => m.Contains(unknown.ToString(), StringComparison.Ordinal));
        Assert.DoesNotContain(statement, await AllStatementsAsync());
    }

    [Fact]
    public async Task CreatingAClaimWhoseSecondEvidenceCitesAnUnknownSourceStoresNothingAtAll()
    {
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var unknown = Guid.CreateVersion7();
        var statement = $"North Korean soldiers deserted near Kursk ({Guid.NewGuid():N}).";

        var response = await _client.PostAsJsonAsync("/claims", new
        {
            statement,
            evidence = new[] { Story.Evidence(suspilne, "asserts", "18 soldiers deserted"), Story.Evidence(unknown, "asserts") },
        });

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(unknown.ToString(), Assert.Single(problem.Errors("evidence[1].sourceId")));
        Assert.False(problem.GetProperty("errors").TryGetProperty("evidence[0].sourceId", out _), problem.ToString());
        Assert.DoesNotContain(statement, await AllStatementsAsync());
        // No evidence cites the known source, so it can go.
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/sources/{suspilne}")).StatusCode);
    }

    private static void AssertCites(JsonElement evidence, string name, string kind, string reliability, string stance, string quote, int credibility)
    {
        var source = evidence.GetProperty("source");
        Assert.Equal(name, source.Str("name"));
        Assert.Equal(kind, source.Str("kind"));
        Assert.Equal(reliability, source.Str("reliability"));
        Assert.Equal(stance, evidence.Str("stance"));
        Assert.Equal(quote, evidence.Str("quote"));
        Assert.Equal(credibility, evidence.GetProperty("credibility").GetInt32());
    }

    private async Task<Guid> AddEvidenceAsync(Guid claim, Guid source, string stance, string quote = "there is evidence", int? credibility = null)
    {
        var response = await _client.PostAsJsonAsync($"/claims/{claim}/evidence", Story.Evidence(source, stance, quote, credibility));
        return (await response.ReadJsonAsync(HttpStatusCode.Created)).Id();
    }

    private async Task<JsonElement> GetClaimAsync(Guid id) =>
        await (await _client.GetAsync($"/claims/{id}")).ReadJsonAsync(HttpStatusCode.OK);

    private async Task<List<string>> AllStatementsAsync() =>
        [.. (await _client.ReadAllPagesAsync("/claims?limit=200", maxPages: 50)).Select(c => c.Str("statement"))];
}
