using System.Net.Http.Headers;
using Claims.Tests.Infrastructure;
using static Claims.Tests.Infrastructure.HttpAssertions;

namespace Claims.Tests;

/// <summary>
/// duplicate_of makes the canonical claim authoritative: with the seed story's desertion report
/// logged again in Ukrainian, the duplicate's status look-up answers the English claim's, its
/// evidence counts toward that claim's origins and verdict, and lists leave it out.
/// </summary>
public sealed class DuplicateClaimsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task AUkrainianDuplicateFollowsItsEnglishCanonicalAndItsEvidenceConfirmsIt()
    {
        var insider = await _client.SourceAsync("Business Insider", "outlet", "C");
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var english = await _client.ClaimAsync(Story.Deserted, Story.Evidence(insider, "asserts", "soldiers have deserted"));
        var ukrainian = await _client.ClaimAsync(Story.UkrainianDesertion, Story.Evidence(hromadske, "supports", "18 військових дезертирували"));
        var unsupported = await _client.SetStatusAsync(english, "confirmed", "Hromadske corroborates it.", HttpStatusCode.Conflict);
        Assert.Equal("/problems/confirm-needs-support", unsupported.Str("type"));

        await RelateAsync(ukrainian, "duplicate_of", english);

        var followed = await StatusAsync(ukrainian);
        Assert.Equal((ukrainian, english, "unverified"), (followed.GetProperty("claimId").GetGuid(), followed.GetProperty("canonicalClaimId").GetGuid(), followed.Str("status")));
        AssertCounts(followed.GetProperty("evidenceCounts"), asserts: 1);
        AssertCounts(followed.GetProperty("independentOrigins"), asserts: 1, supports: 1);
        var canonical = await (await _client.GetAsync($"/claims/{english}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal([insider], canonical.GetProperty("evidence").EnumerateArray().Select(e => e.GetProperty("source").Id()));
        AssertCounts(canonical.GetProperty("independentOrigins"), asserts: 1, supports: 1);
        Assert.False(canonical.TryGetProperty("canonicalClaimId", out _));
        var duplicate = await (await _client.GetAsync($"/claims/{ukrainian}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(english, duplicate.GetProperty("canonicalClaimId").GetGuid());

        var confirmed = await _client.SetStatusAsync(english, "confirmed", "Hromadske counted the desertions independently.");
        var onDuplicate = await _client.SetStatusAsync(ukrainian, "false", "Nobody deserted.", HttpStatusCode.Conflict);

        Assert.Equal("confirmed", confirmed.Str("status"));
        Assert.Equal("/problems/claim-is-duplicate", onDuplicate.Str("type"));
        Assert.Equal(english.ToString(), onDuplicate.Str("canonicalClaimId"));
        var after = await StatusAsync(ukrainian);
        Assert.Equal(("confirmed", "Hromadske counted the desertions independently."), (after.Str("status"), after.Str("note")));
        var many = await (await _client.PostAsJsonAsync("/claims/statuses", new { ids = new[] { ukrainian, english } })).ReadJsonAsync(HttpStatusCode.OK);
        var items = many.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([(ukrainian, "confirmed"), (english, "confirmed")], items.Select(i => (i.GetProperty("claimId").GetGuid(), i.Str("status"))));
        Assert.Equal(english, items[0].GetProperty("canonicalClaimId").GetGuid());
        Assert.False(items[1].TryGetProperty("canonicalClaimId", out _));
    }

    [Fact]
    public async Task EvidenceAddedToADuplicateLaterCountsTowardItsCanonicalsOrigins()
    {
        var insider = await _client.SourceAsync("Business Insider", "outlet", "C");
        var kremlin = await _client.SourceAsync("Kremlin spokesman", "government", "C");
        var english = await _client.ClaimAsync(Story.Deserted, Story.Evidence(insider, "asserts", "soldiers have deserted"));
        var russian = await _client.ClaimAsync(Story.RussianDesertion);
        await RelateAsync(russian, "duplicate_of", english);
        var before = await (await _client.GetAsync($"/claims/{english}/status")).ReadJsonAsync(HttpStatusCode.OK);

        await (await _client.PostAsJsonAsync($"/claims/{russian}/evidence", Story.Evidence(kremlin, "refutes", "никто не дезертировал"))).ReadJsonAsync(HttpStatusCode.Created);

        var canonical = await StatusAsync(english);
        AssertCounts(before.GetProperty("independentOrigins"), asserts: 1);
        AssertCounts(canonical.GetProperty("independentOrigins"), asserts: 1, refutes: 1);
        AssertCounts(canonical.GetProperty("evidenceCounts"), asserts: 1);
        var followed = await StatusAsync(russian);
        AssertCounts(followed.GetProperty("independentOrigins"), asserts: 1, refutes: 1);
    }

    [Fact]
    public async Task ADuplicatesRelayedEvidenceCollapsesIntoTheCanonicalsOriginsWithItsChain()
    {
        var military = await _client.SourceAsync("Anonymous sources in the Ukrainian military", "anonymous", "F");
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var english = await _client.ClaimAsync(Story.Deserted, Relayed(suspilne, military));
        var ukrainian = await _client.ClaimAsync(Story.UkrainianDesertion, Relayed(hromadske, military));
        await RelateAsync(ukrainian, "duplicate_of", english);

        var canonical = await (await _client.GetAsync($"/claims/{english}")).ReadJsonAsync(HttpStatusCode.OK);

        var own = Assert.Single(canonical.GetProperty("evidence").EnumerateArray());
        Assert.Equal(suspilne, own.GetProperty("source").Id());
        AssertCounts(canonical.GetProperty("independentOrigins"), asserts: 1);
        var origin = Assert.Single(canonical.GetProperty("origins").EnumerateArray());
        Assert.Equal(military, origin.Id());
        Assert.Equal(["Anonymous sources in the Ukrainian military"], origin.GetProperty("sources").EnumerateArray().Select(s => s.Str("name")));
        Assert.Equal(2, origin.GetProperty("evidenceIds").GetArrayLength());
        Assert.Contains(own.Id(), origin.GetProperty("evidenceIds").EnumerateArray().Select(e => e.GetGuid()));
        AssertCounts((await StatusAsync(ukrainian)).GetProperty("independentOrigins"), asserts: 1);
    }

    [Fact]
    public async Task RemovingADuplicateTheVerdictRestsOnIsRefusedUntilTheCanonicalHasItsOwnSupport()
    {
        var insider = await _client.SourceAsync("Business Insider", "outlet", "C");
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var nknews = await _client.SourceAsync("NK News", "outlet", "B");
        var english = await _client.ClaimAsync(Story.Deserted, Story.Evidence(insider, "asserts", "soldiers have deserted"));
        var ukrainian = await _client.ClaimAsync(Story.UkrainianDesertion, Story.Evidence(hromadske, "supports", "18 військових дезертирували"));
        var relation = await RelateAsync(ukrainian, "duplicate_of", english);
        await _client.SetStatusAsync(english, "confirmed", "Hromadske counted the desertions independently.");

        var refused = await (await _client.DeleteAsync($"/claims/{english}/relations/{relation}")).ReadProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal("/problems/verdict-rests-on-evidence", refused.Str("type"));
        Assert.Contains($"Claim {english} is confirmed", refused.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(english, (await StatusAsync(ukrainian)).GetProperty("canonicalClaimId").GetGuid());
        Assert.Single((await (await _client.GetAsync($"/claims/{english}/relations")).ReadJsonAsync(HttpStatusCode.OK)).Items());

        await (await _client.PostAsJsonAsync($"/claims/{english}/evidence", Story.Evidence(nknews, "supports", "two defectors confirmed it"))).ReadJsonAsync(HttpStatusCode.Created);
        var removed = await _client.DeleteAsync($"/claims/{english}/relations/{relation}");

        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        var own = await StatusAsync(ukrainian);
        Assert.Equal("unverified", own.Str("status"));
        Assert.False(own.TryGetProperty("canonicalClaimId", out _), own.GetRawText());
        var canonical = await StatusAsync(english);
        Assert.Equal("confirmed", canonical.Str("status"));
        AssertCounts(canonical.GetProperty("independentOrigins"), asserts: 1, supports: 1);
    }

    [Fact]
    public async Task ADuplicatesEvidenceTheVerdictRestsOnCannotBeRemovedFromTheDuplicate()
    {
        var (english, ukrainian) = await ConfirmedThroughItsDuplicateAsync();
        var item = (await (await _client.GetAsync($"/claims/{ukrainian}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("evidence")[0].Id();

        var refused = await (await _client.DeleteAsync($"/claims/{ukrainian}/evidence/{item}")).ReadProblemAsync(HttpStatusCode.Conflict);
        var throughCanonical = await (await _client.DeleteAsync($"/claims/{english}/evidence/{item}")).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal("/problems/verdict-rests-on-evidence", refused.Str("type"));
        Assert.Equal("/problems/not-found", throughCanonical.Str("type"));
        Assert.Single((await (await _client.GetAsync($"/claims/{ukrainian}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("evidence").EnumerateArray());
    }

    [Fact]
    public async Task ADuplicateTheCanonicalsVerdictRestsOnCannotBeDeleted()
    {
        var (english, ukrainian) = await ConfirmedThroughItsDuplicateAsync();

        var refused = await (await _client.DeleteAsync($"/claims/{ukrainian}")).ReadProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal("/problems/verdict-rests-on-evidence", refused.Str("type"));
        Assert.Equal(english, (await StatusAsync(ukrainian)).GetProperty("canonicalClaimId").GetGuid());
        AssertCounts((await StatusAsync(english)).GetProperty("independentOrigins"), asserts: 1, supports: 1);
    }

    [Fact]
    public async Task ADuplicateKeepsTheEvidenceItsOwnVerdictRestsOn()
    {
        var pentagon = await _client.SourceAsync("Pentagon", "government", "B");
        var nknews = await _client.SourceAsync("NK News", "outlet", "B");
        var korean = await _client.ClaimAsync(Story.KoreanTraining, Story.Evidence(nknews, "supports", "satellite images of the camp"));
        await _client.SetStatusAsync(korean, "confirmed", "NK News saw the camp.");
        var english = await _client.ClaimAsync(Story.Training, Story.Evidence(pentagon, "asserts", "there is evidence"));
        await RelateAsync(korean, "duplicate_of", english);
        var item = (await (await _client.GetAsync($"/claims/{korean}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("evidence")[0].Id();

        // The English canonical is unverified and needs nothing; the Korean claim's own verdict, which
        // it takes back if the relation goes, rests on the item.
        var refused = await (await _client.DeleteAsync($"/claims/{korean}/evidence/{item}")).ReadProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal("/problems/verdict-rests-on-evidence", refused.Str("type"));
        Assert.Contains("The claim is confirmed", refused.Str("detail"), StringComparison.Ordinal);
        Assert.Single((await (await _client.GetAsync($"/claims/{korean}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("evidence").EnumerateArray());
    }

    [Fact]
    public async Task ADuplicatesVerdictIsPublishedOnlyUnderItsCanonical()
    {
        var insider = await _client.SourceAsync("Business Insider", "outlet", "C");
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var english = await _client.ClaimAsync(Story.Deserted, Story.Evidence(insider, "asserts", "soldiers have deserted"), Story.Evidence(hromadske, "supports", "18 deserted"));
        var ukrainian = await _client.ClaimAsync(Story.UkrainianDesertion, Story.Evidence(hromadske, "supports", "18 військових дезертирували"));
        await _client.SetStatusAsync(ukrainian, "inconclusive", "One outlet only, at first.");
        await _client.SetStatusAsync(english, "confirmed", "Hromadske counted the desertions.");
        var since = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(-5).ToString("O"));
        var feedBefore = await FeedIdsAsync(since);
        Assert.Contains(ukrainian, feedBefore);

        await RelateAsync(ukrainian, "duplicate_of", english);

        var review = await (await _client.GetAsync($"/claims/{ukrainian}/claimreview")).ReadProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("/problems/claim-is-duplicate", review.Str("type"));
        Assert.Equal(english.ToString(), review.Str("canonicalClaimId"));
        var feed = await FeedIdsAsync(since);
        Assert.DoesNotContain(ukrainian, feed);
        Assert.Contains(english, feed);
    }

    [Fact]
    public async Task EvidenceAddedToADuplicateMovesItsCanonicalsETag()
    {
        var insider = await _client.SourceAsync("Business Insider", "outlet", "C");
        var english = await _client.ClaimAsync(Story.Deserted, Story.Evidence(insider, "asserts", "soldiers have deserted"));
        var russian = await _client.ClaimAsync(Story.RussianDesertion);
        await RelateAsync(russian, "duplicate_of", english);
        var read = await _client.GetAsync($"/claims/{english}");
        var etag = read.Headers.ETag!;

        await (await _client.PostAsJsonAsync($"/claims/{russian}/evidence", Story.Evidence(insider, "mentions", "дезертировали"))).ReadJsonAsync(HttpStatusCode.Created);

        using var again = new HttpRequestMessage(HttpMethod.Get, $"/claims/{english}");
        again.Headers.IfNoneMatch.Add(etag);
        var changed = await (await _client.SendAsync(again)).ReadJsonAsync(HttpStatusCode.OK);
        AssertCounts(changed.GetProperty("independentOrigins"), asserts: 1, mentions: 1);
    }

    [Fact]
    public async Task ListsSearchesAndExportsLeaveDuplicatesOutUnlessAskedFor()
    {
        var word = "zdup" + Guid.NewGuid().ToString("N")[..8];
        var tag = "dup-" + Guid.NewGuid().ToString("N")[..8];
        var english = await LogAsync($"North Korean soldiers deserted near Kursk {word}.", "en", tag);
        var ukrainian = await LogAsync($"Північнокорейські солдати дезертирували під Курськом {word}.", "uk", tag);
        var other = await LogAsync($"North Korean troops moved to Kursk {word}.", "en", tag);
        await RelateAsync(ukrainian, "duplicate_of", english);

        foreach (var query in new[] { $"tag={tag}", $"q={word}", $"q={word}&sort=-updatedAt", $"q={word}&sort=-createdAt", $"q={word}&tag={tag}" })
        {
            var hidden = await ListAsync($"/claims?{query}");
            var shown = await ListAsync($"/claims?{query}&includeDuplicates=true");
            Assert.Equal([english, other], hidden.Select(c => c.Id()).Order());
            Assert.Equal([english, ukrainian, other], shown.Select(c => c.Id()).Order());
            Assert.Equal(english, shown.Single(c => c.Id() == ukrainian).GetProperty("canonicalClaimId").GetGuid());
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/claims?tag={tag}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        var exported = await (await _client.SendAsync(request)).Content.ReadAsStringAsync();
        var ids = exported.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Id()).Order();
        Assert.Equal([english, other], ids);
        using var all = new HttpRequestMessage(HttpMethod.Get, $"/claims?tag={tag}&includeDuplicates=true");
        all.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        var lines = (await (await _client.SendAsync(all)).Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(english, lines.Single(l => l.Id() == ukrainian).GetProperty("canonicalClaimId").GetGuid());
        Assert.Equal(3, lines.Count);
    }

    [Fact]
    public async Task DeletingACanonicalMakesTheNextClaimOfEachChainCanonical()
    {
        var english = await _client.ClaimAsync(Story.Deserted);
        var ukrainian = await _client.ClaimAsync(Story.UkrainianDesertion);
        var russian = await _client.ClaimAsync(Story.RussianDesertion);
        await RelateAsync(ukrainian, "duplicate_of", english);
        await RelateAsync(russian, "duplicate_of", ukrainian);
        Assert.Equal(english, (await StatusAsync(russian)).GetProperty("canonicalClaimId").GetGuid());
        await _client.SetStatusAsync(english, "in_review", "Looking for a second outlet.");

        var deleted = await _client.DeleteAsync($"/claims/{english}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var ukrainianNow = await StatusAsync(ukrainian);
        Assert.Equal("unverified", ukrainianNow.Str("status"));
        Assert.False(ukrainianNow.TryGetProperty("canonicalClaimId", out _), ukrainianNow.GetRawText());
        Assert.Equal(ukrainian, (await StatusAsync(russian)).GetProperty("canonicalClaimId").GetGuid());
        var relations = (await (await _client.GetAsync($"/claims/{ukrainian}/relations")).ReadJsonAsync(HttpStatusCode.OK)).Items().ToList();
        Assert.Equal([russian], relations.Select(r => r.GetProperty("claim").Id()));
    }

    [Fact]
    public async Task TheNearDuplicateCheckSuggestsDuplicateOfTheCanonicalAndLinksNothing()
    {
        var statement = $"North Korean soldiers sent to the Kursk region have deserted, {Guid.NewGuid():N}.";
        var english = await _client.ClaimAsync(statement);
        var again = await _client.ClaimAsync(statement.Replace("have deserted", "deserted", StringComparison.Ordinal));
        await RelateAsync(again, "duplicate_of", english);

        var similar = await (await _client.GetAsync($"/claims/similar?text={Uri.EscapeDataString(statement)}&minScore=0.3")).ReadJsonAsync(HttpStatusCode.OK);
        var ours = similar.GetProperty("items").EnumerateArray().Where(i => i.GetProperty("claim").Id() == english || i.GetProperty("claim").Id() == again).ToList();

        Assert.Equal(2, ours.Count);
        Assert.All(ours, i =>
        {
            Assert.Equal("duplicate_of", i.GetProperty("suggested").Str("kind"));
            Assert.Equal(english, i.GetProperty("suggested").GetProperty("relatedClaimId").GetGuid());
        });
        var logged = await _client.PostAsJsonAsync("/claims", new { statement, language = "en", checkDuplicates = true });
        var problem = await logged.ReadProblemAsync(HttpStatusCode.Conflict);
        var listed = problem.GetProperty("duplicates").EnumerateArray().First(d => d.GetProperty("claim").Id() == english);
        Assert.Equal(english, listed.GetProperty("suggested").GetProperty("relatedClaimId").GetGuid());
        // Suggested only: the relations are the one recorded by hand.
        Assert.Single((await (await _client.GetAsync($"/claims/{english}/relations")).ReadJsonAsync(HttpStatusCode.OK)).Items());
    }

    private static object Relayed(Guid sourceId, Guid via) =>
        new { sourceId, stance = "asserts", quote = "soldiers deserted", viaSourceIds = new[] { via } };

    private async Task<List<Guid>> FeedIdsAsync(string since)
    {
        var feed = await (await _client.GetAsync($"/claimreview?updatedSince={since}&limit=200")).ReadJsonAsync(HttpStatusCode.OK);
        return [.. feed.GetProperty("dataFeedElement").EnumerateArray().Select(e => Guid.Parse(e.Str("url")[^36..]))];
    }

    private async Task<Guid> LogAsync(string statement, string language, string tag) =>
        (await (await _client.PostAsJsonAsync("/claims", new { statement, language, tags = new[] { tag } })).ReadJsonAsync(HttpStatusCode.Created)).Id();

    private async Task<List<JsonElement>> ListAsync(string path) =>
        (await (await _client.GetAsync(path)).ReadJsonAsync(HttpStatusCode.OK)).Items().ToList();

    /// <summary>
    /// The English desertion claim, asserted by Business Insider and confirmed on Hromadske's
    /// support, which is logged on its Ukrainian duplicate only.
    /// </summary>
    private async Task<(Guid English, Guid Ukrainian)> ConfirmedThroughItsDuplicateAsync()
    {
        var insider = await _client.SourceAsync("Business Insider", "outlet", "C");
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var english = await _client.ClaimAsync(Story.Deserted, Story.Evidence(insider, "asserts", "soldiers have deserted"));
        var ukrainian = await _client.ClaimAsync(Story.UkrainianDesertion, Story.Evidence(hromadske, "supports", "18 військових дезертирували"));
        await RelateAsync(ukrainian, "duplicate_of", english);
        await _client.SetStatusAsync(english, "confirmed", "Hromadske counted the desertions independently.");
        return (english, ukrainian);
    }

    private async Task<Guid> RelateAsync(Guid claim, string kind, Guid related) =>
        (await (await _client.PostAsJsonAsync($"/claims/{claim}/relations", new { kind, relatedClaimId = related })).ReadJsonAsync(HttpStatusCode.Created)).Id();

    private async Task<JsonElement> StatusAsync(Guid claim) =>
        await (await _client.GetAsync($"/claims/{claim}/status")).ReadJsonAsync(HttpStatusCode.OK);
}
