using Claims.Tests.Infrastructure;
using Npgsql;
using static Claims.Tests.Infrastructure.HttpAssertions;

namespace Claims.Tests;

/// <summary>
/// Evidence chains (viaSourceIds), the origins they come down to, and the verdict rule that counts
/// them, with the seed story's own cases: Austin and the Pentagon are one government; Suspilne and
/// Hromadske both relay anonymous military sources; Business Insider relays Suspilne.
/// </summary>
public sealed class IndependentOriginsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task TheTwoUkrainianOutletsRelayingOneAnonymousSourceCountAsOneOrigin()
    {
        var military = await _client.SourceAsync("Anonymous sources in the Ukrainian military", "anonymous", "F");
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var insider = await _client.SourceAsync("Business Insider", "outlet", "C");

        var claim = await _client.ClaimAsync(Story.Deserted,
            Via(suspilne, "supports", military),
            Via(hromadske, "supports", military),
            Via(insider, "mentions", suspilne, military));

        var stored = await (await _client.GetAsync($"/claims/{claim}")).ReadJsonAsync(HttpStatusCode.OK);
        var evidence = stored.GetProperty("evidence").EnumerateArray().ToList();
        Assert.Equal([[military], [military], [suspilne, military]], evidence.Select(e => e.GetProperty("viaSourceIds").EnumerateArray().Select(v => v.GetGuid()).ToList()));
        Assert.All(evidence, e => Assert.Equal(military, e.GetProperty("originSourceId").GetGuid()));
        AssertCounts(stored.GetProperty("independentOrigins"), supports: 1, mentions: 1);
        var group = Assert.Single(stored.GetProperty("origins").EnumerateArray());
        Assert.Equal(military, group.Id());
        Assert.Equal(["Anonymous sources in the Ukrainian military"], group.GetProperty("sources").EnumerateArray().Select(s => s.Str("name")));
        Assert.Equal(evidence.Select(e => e.Id()), group.GetProperty("evidenceIds").EnumerateArray().Select(e => e.GetGuid()));
        Assert.Equal(["supports", "mentions"], group.GetProperty("stances").EnumerateArray().Select(s => s.GetString()));
        Assert.Contains("3 items trace back to Anonymous sources in the Ukrainian military", group.Str("reason"), StringComparison.Ordinal);

        var status = await (await _client.GetAsync($"/claims/{claim}/status")).ReadJsonAsync(HttpStatusCode.OK);
        AssertCounts(status.GetProperty("evidenceCounts"), supports: 2, mentions: 1);
        AssertCounts(status.GetProperty("independentOrigins"), supports: 1, mentions: 1);
    }

    [Fact]
    public async Task AustinAndThePentagonCannotConfirmButAnIndependentOutletCan()
    {
        var austin = await _client.SourceAsync("Lloyd Austin", "person", "B");
        var pentagon = await _client.SourceAsync("Pentagon", "government", "B");
        var nknews = await _client.SourceAsync("NK News", "outlet", "B");
        await RelateAsync(austin, "affiliated_with", pentagon);
        var claim = await _client.ClaimAsync(Story.Training,
            Story.Evidence(austin, "asserts", "there is evidence"),
            Story.Evidence(pentagon, "supports", "North Korean troops are training at Russian bases"));
        var items = await EvidenceAsync(claim);
        var pentagonItem = items.Single(e => e.GetProperty("source").Id() == pentagon).Id();
        // Items that speak for themselves carry no chain fields: their origin is their source.
        Assert.All(items, e => Assert.False(e.TryGetProperty("viaSourceIds", out _) || e.TryGetProperty("via", out _) || e.TryGetProperty("originSourceId", out _), e.GetRawText()));

        var refused = await _client.SetStatusAsync(claim, "confirmed", "The Pentagon corroborates it.", HttpStatusCode.Conflict);

        Assert.Equal("/problems/confirm-needs-independent-support", refused.Str("type"));
        var discounted = Assert.Single(refused.GetProperty("discounted").EnumerateArray());
        Assert.Equal((pentagonItem, pentagon, pentagon), (discounted.GetProperty("evidenceId").GetGuid(), discounted.GetProperty("sourceId").GetGuid(), discounted.GetProperty("originSourceId").GetGuid()));
        Assert.Equal("Its origin, Pentagon, is one origin with Lloyd Austin, which asserts the claim (joined by 'affiliated_with' or 'derived_from' relations).", discounted.Str("reason"));
        var status = await (await _client.GetAsync($"/claims/{claim}/status")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("unverified", status.Str("status"));
        AssertCounts(status.GetProperty("independentOrigins"), asserts: 1, supports: 1);

        await (await _client.PostAsJsonAsync($"/claims/{claim}/evidence", Story.Evidence(nknews, "supports", "satellite images of the camp"))).ReadJsonAsync(HttpStatusCode.Created);
        var confirmed = await _client.SetStatusAsync(claim, "confirmed", "NK News corroborates it independently.");

        Assert.Equal("confirmed", confirmed.Str("status"));
        AssertCounts(confirmed.GetProperty("independentOrigins"), asserts: 1, supports: 2);
        var stored = await (await _client.GetAsync($"/claims/{claim}")).ReadJsonAsync(HttpStatusCode.OK);
        // NK News is an origin of one item, its own: only the origin that stands for two is listed.
        var group = Assert.Single(stored.GetProperty("origins").EnumerateArray());
        Assert.Equal([austin, pentagon], group.GetProperty("sources").EnumerateArray().Select(s => s.Id()));
        Assert.Equal(["asserts", "supports"], group.GetProperty("stances").EnumerateArray().Select(s => s.GetString()));
        Assert.Contains("joined by 'affiliated_with' or 'derived_from' relations", group.Str("reason"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheAsserterSupportingItselfIsDiscountedAndARelayOfTheAsserterToo()
    {
        var austin = await _client.SourceAsync("Lloyd Austin", "person", "B");
        var insider = await _client.SourceAsync("Business Insider", "outlet", "C");
        var claim = await _client.ClaimAsync(Story.Training,
            Story.Evidence(austin, "asserts", "there is evidence"),
            Story.Evidence(austin, "supports", "we have seen it"),
            Via(insider, "supports", austin));

        var refused = await _client.SetStatusAsync(claim, "confirmed", "Austin said it twice.", HttpStatusCode.Conflict);

        Assert.Equal("/problems/confirm-needs-independent-support", refused.Str("type"));
        var reasons = refused.GetProperty("discounted").EnumerateArray().Select(d => (d.GetProperty("sourceId").GetGuid(), d.Str("reason"))).ToList();
        Assert.Equal(
            [(austin, "Its origin, Lloyd Austin, also asserts the claim: the asserter saying it again is not corroboration."),
             (insider, "Its origin, Lloyd Austin, also asserts the claim: the asserter saying it again is not corroboration.")],
            reasons);
        Assert.Contains("None of the claim's 2 'supports' item(s) is independent of its asserters", refused.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MarkingFalseNeedsARefutationIndependentOfTheAsserters()
    {
        var agency = await _client.SourceAsync("Ukraine's defense agency", "government", "C");
        var ministry = await _client.SourceAsync("Ukraine's defence ministry", "government", "C");
        var claim = await _client.ClaimAsync(Story.Deserted,
            Story.Evidence(agency, "asserts", "18 soldiers deserted"),
            Story.Evidence(ministry, "refutes", "no desertions recorded"));
        var relation = await RelateAsync(ministry, "derived_from", agency);

        var refused = await _client.SetStatusAsync(claim, "false", "The ministry denies it.", HttpStatusCode.Conflict);

        Assert.Equal("/problems/false-needs-independent-refutation", refused.Str("type"));
        Assert.Equal(ministry, Assert.Single(refused.GetProperty("discounted").EnumerateArray()).GetProperty("sourceId").GetGuid());

        // Without the relation the two are separate origins again.
        (await _client.DeleteAsync($"/sources/{agency}/relations/{relation}")).EnsureSuccessStatusCode();
        var accepted = await _client.SetStatusAsync(claim, "false", "The ministry denies it.");
        Assert.Equal("false", accepted.Str("status"));
        AssertCounts(accepted.GetProperty("independentOrigins"), asserts: 1, refutes: 1);
    }

    [Fact]
    public async Task SourcesJoinedThroughAThirdAreOneOriginUntilTheLinkBetweenThemIsRemoved()
    {
        var austin = await _client.SourceAsync("Lloyd Austin", "person", "B");
        var government = await _client.SourceAsync("US government", "government", "B");
        var pentagon = await _client.SourceAsync("Pentagon", "government", "B");
        var claim = await _client.ClaimAsync(Story.Training,
            Story.Evidence(austin, "asserts", "there is evidence"),
            Story.Evidence(pentagon, "supports", "training at Russian bases"));
        await RelateAsync(austin, "affiliated_with", government);
        var link = await RelateAsync(pentagon, "affiliated_with", government);
        var joined = await OriginsAsync(claim);
        var refused = await _client.SetStatusAsync(claim, "confirmed", "The Pentagon corroborates it.", HttpStatusCode.Conflict);

        (await _client.DeleteAsync($"/sources/{pentagon}/relations/{link}")).EnsureSuccessStatusCode();

        var group = Assert.Single(joined);
        Assert.Equal([austin, pentagon], group.GetProperty("sources").EnumerateArray().Select(s => s.Id()));
        Assert.Equal("/problems/confirm-needs-independent-support", refused.Str("type"));
        Assert.Empty(await OriginsAsync(claim));
        Assert.Equal("confirmed", (await _client.SetStatusAsync(claim, "confirmed", "The Pentagon is on its own now.")).Str("status"));
    }

    [Fact]
    public async Task TheLastIndependentSupportOfAConfirmedClaimCannotBeRemovedButARepeatedOneCan()
    {
        var austin = await _client.SourceAsync("Lloyd Austin", "person", "B");
        var nknews = await _client.SourceAsync("NK News", "outlet", "B");
        var claim = await _client.ClaimAsync(Story.Training,
            Story.Evidence(austin, "asserts", "there is evidence"),
            Story.Evidence(austin, "supports", "we have seen it"),
            Story.Evidence(nknews, "supports", "satellite images of the camp"));
        await _client.SetStatusAsync(claim, "confirmed", "NK News corroborates it.");
        var items = await EvidenceAsync(claim);
        var independent = items.Single(e => e.GetProperty("source").Id() == nknews).Id();
        var repeated = items.Single(e => e.GetProperty("source").Id() == austin && e.Str("stance") == "supports").Id();

        var refused = await (await _client.DeleteAsync($"/claims/{claim}/evidence/{independent}")).ReadProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal("/problems/verdict-rests-on-evidence", refused.Str("type"));
        Assert.Contains("last 'supports' evidence independent of its asserters", refused.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(3, (await EvidenceAsync(claim)).Count);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/claims/{claim}/evidence/{repeated}")).StatusCode);
        Assert.Equal([items[0].Id(), independent], (await EvidenceAsync(claim)).Select(e => e.Id()));
    }

    [Fact]
    public async Task AddingARelationChangesTheStatusAnswersOriginsAndItsETag()
    {
        var austin = await _client.SourceAsync("Lloyd Austin", "person", "B");
        var pentagon = await _client.SourceAsync("Pentagon", "government", "B");
        var spokesperson = await _client.SourceAsync("Pentagon spokesperson", "person", "B");
        var claim = await _client.ClaimAsync(Story.Training,
            Story.Evidence(austin, "asserts", "there is evidence"),
            Story.Evidence(pentagon, "supports", "training at Russian bases"),
            Story.Evidence(spokesperson, "supports", "we can confirm the training"));
        var first = await _client.GetAsync($"/claims/{claim}/status");
        var etag = first.Headers.ETag!;
        AssertCounts((await first.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("independentOrigins"), asserts: 1, supports: 2);

        var relation = await RelateAsync(spokesperson, "affiliated_with", pentagon);
        using var again = new HttpRequestMessage(HttpMethod.Get, $"/claims/{claim}/status");
        again.Headers.IfNoneMatch.Add(etag);
        var second = await _client.SendAsync(again);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.NotEqual(etag, second.Headers.ETag);
        var body = await second.ReadJsonAsync(HttpStatusCode.OK);
        AssertCounts(body.GetProperty("evidenceCounts"), asserts: 1, supports: 2);
        AssertCounts(body.GetProperty("independentOrigins"), asserts: 1, supports: 1);
        var joined = Assert.Single(await OriginsAsync(claim));
        Assert.Equal([pentagon, spokesperson], joined.GetProperty("sources").EnumerateArray().Select(s => s.Id()));

        // Apart again: the status answer counts two origins as before, with the first ETag.
        (await _client.DeleteAsync($"/sources/{pentagon}/relations/{relation}")).EnsureSuccessStatusCode();
        var apart = await _client.GetAsync($"/claims/{claim}/status");
        AssertCounts((await apart.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("independentOrigins"), asserts: 1, supports: 2);
        Assert.Equal(etag, apart.Headers.ETag);
    }

    [Fact]
    public async Task ABadChainIsRefusedByFieldAndNothingIsStored()
    {
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var military = await _client.SourceAsync("Anonymous sources in the Ukrainian military", "anonymous", "F");
        var claim = await _client.ClaimAsync(Story.Deserted);
        var missing = Guid.NewGuid();
        var tooLong = Enumerable.Range(0, 11).Select(_ => Guid.NewGuid()).ToArray();

        var unknown = await AddAsync(claim, new { sourceId = suspilne, stance = "supports", viaSourceIds = new[] { military, missing } });
        var itself = await AddAsync(claim, new { sourceId = suspilne, stance = "supports", viaSourceIds = new[] { suspilne } });
        var twice = await AddAsync(claim, new { sourceId = suspilne, stance = "supports", viaSourceIds = new[] { military, military } });
        var eleven = await AddAsync(claim, new { sourceId = suspilne, stance = "supports", viaSourceIds = tooLong });
        var created = await _client.PostAsJsonAsync("/claims", new
        {
            statement = Story.Desertions,
            evidence = new[] { new { sourceId = suspilne, stance = "supports", viaSourceIds = new[] { military } }, new { sourceId = suspilne, stance = "mentions", viaSourceIds = new[] { military, missing } } },
        });

        Assert.Equal($"There is no source with id {missing}.", Assert.Single(unknown.Errors("viaSourceIds[1]")));
        Assert.Contains("cannot relay itself", Assert.Single(itself.Errors("viaSourceIds")), StringComparison.Ordinal);
        Assert.Equal("Each source may appear once in a chain.", Assert.Single(twice.Errors("viaSourceIds")));
        Assert.Equal("At most 10 items in viaSourceIds; 11 were sent.", Assert.Single(eleven.Errors("viaSourceIds")));
        var refused = await created.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal($"There is no source with id {missing}.", Assert.Single(refused.Errors("evidence[1].viaSourceIds[1]")));
        Assert.Empty(await EvidenceAsync(claim));
    }

    [Fact]
    public async Task ASourceNamedInAChainCannotBeDeletedUntilTheItemIsRemoved()
    {
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var military = await _client.SourceAsync("Anonymous sources in the Ukrainian military", "anonymous", "F");
        var claim = await _client.ClaimAsync(Story.Deserted, Via(suspilne, "supports", military));
        var item = Assert.Single(await EvidenceAsync(claim)).Id();

        var refused = await (await _client.DeleteAsync($"/sources/{military}")).ReadProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal("/problems/source-still-cited", refused.Str("type"));
        Assert.StartsWith("1 evidence item(s) still refer to source", refused.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/sources/{military}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/claims/{claim}/evidence/{item}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/sources/{military}")).StatusCode);
    }

    [Fact]
    public async Task EvidenceAddedWhileARelationComesAndGoesIsAllStoredAndCountedAsTheRelationsEnd()
    {
        var austin = await _client.SourceAsync("Lloyd Austin", "person", "B");
        var pentagon = await _client.SourceAsync("Pentagon", "government", "B");
        var spokesperson = await _client.SourceAsync("Pentagon spokesperson", "person", "B");
        var claim = await _client.ClaimAsync(Story.Training, Story.Evidence(austin, "asserts", "there is evidence"));

        // A regrouping recounts the claims it touches while evidence is written to them: neither
        // may wait for the other in a circle, and the last count must see both.
        async Task<List<HttpStatusCode>> AddAsync()
        {
            var answers = new List<HttpStatusCode>();
            for (var i = 0; i < 12; i++)
            {
                var response = await _client.PostAsJsonAsync($"/claims/{claim}/evidence", Story.Evidence(i % 2 == 0 ? pentagon : spokesperson, "supports", $"report {i}"));
                answers.Add(response.StatusCode);
            }

            return answers;
        }

        async Task<List<HttpStatusCode>> ToggleAsync()
        {
            var answers = new List<HttpStatusCode>();
            for (var i = 0; i < 7; i++)
            {
                var added = await _client.PostAsJsonAsync($"/sources/{pentagon}/relations", new { kind = "affiliated_with", relatedSourceId = spokesperson });
                answers.Add(added.StatusCode);
                if (i < 6)
                {
                    var relation = (await added.ReadJsonAsync(HttpStatusCode.Created)).Id();
                    answers.Add((await _client.DeleteAsync($"/sources/{pentagon}/relations/{relation}")).StatusCode);
                }
            }

            return answers;
        }

        var adding = AddAsync();
        var toggling = ToggleAsync();
        await Task.WhenAll(adding, toggling);

        Assert.All(await adding, status => Assert.Equal(HttpStatusCode.Created, status));
        Assert.Equal([.. Enumerable.Repeat(new[] { HttpStatusCode.Created, HttpStatusCode.NoContent }, 6).SelectMany(p => p), HttpStatusCode.Created], await toggling);
        var status = await (await _client.GetAsync($"/claims/{claim}/status")).ReadJsonAsync(HttpStatusCode.OK);
        AssertCounts(status.GetProperty("evidenceCounts"), asserts: 1, supports: 12);
        AssertCounts(status.GetProperty("independentOrigins"), asserts: 1, supports: 1);
    }

    [Fact]
    public async Task AClaimWhoseOriginsAreNotCountedYetIsCountedOnReadAndThenByTheBackfill()
    {
        var military = await _client.SourceAsync("Anonymous sources in the Ukrainian military", "anonymous", "F");
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var claim = await _client.ClaimAsync(Story.Deserted, Via(suspilne, "asserts", military), Via(hromadske, "asserts", military));
        await using var db = NpgsqlDataSource.Create(api.ConnectionString);
        // As a database that predates the counts, or a row written without the API, leaves it.
        await using (var forget = db.CreateCommand("UPDATE claims SET origin_counts = NULL WHERE id = $1"))
        {
            forget.Parameters.AddWithValue(claim);
            await forget.ExecuteNonQueryAsync();
        }

        var read = await (await _client.GetAsync($"/claims/{claim}/status")).ReadJsonAsync(HttpStatusCode.OK);
        var counted = await Claims.Api.Provenance.OriginCountsBackfill.CountAllAsync(db, CancellationToken.None);

        AssertCounts(read.GetProperty("independentOrigins"), asserts: 1);
        Assert.True(counted >= 1, $"The backfill counted {counted} claims.");
        await using var stored = db.CreateCommand("SELECT origin_counts FROM claims WHERE id = $1");
        stored.Parameters.AddWithValue(claim);
        var counts = (int[])(await stored.ExecuteScalarAsync())!;
        Assert.Equal(new[] { 1, 0, 0, 0, 0 }, counts);
    }

    private static object Via(Guid sourceId, string stance, params Guid[] viaSourceIds) =>
        new { sourceId, stance, quote = "citing anonymous sources", viaSourceIds };

    private async Task<Guid> RelateAsync(Guid source, string kind, Guid related) =>
        (await (await _client.PostAsJsonAsync($"/sources/{source}/relations", new { kind, relatedSourceId = related })).ReadJsonAsync(HttpStatusCode.Created)).Id();

    private async Task<List<JsonElement>> EvidenceAsync(Guid claim) =>
        [.. (await (await _client.GetAsync($"/claims/{claim}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("evidence").EnumerateArray()];

    private async Task<List<JsonElement>> OriginsAsync(Guid claim) =>
        [.. (await (await _client.GetAsync($"/claims/{claim}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("origins").EnumerateArray()];

    private async Task<JsonElement> AddAsync(Guid claim, object body) =>
        await (await _client.PostAsJsonAsync($"/claims/{claim}/evidence", body)).ReadProblemAsync(HttpStatusCode.BadRequest);
}
