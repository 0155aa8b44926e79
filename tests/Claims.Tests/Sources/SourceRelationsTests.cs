using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// POST, GET and DELETE /sources/{id}/relations: the seed story's relations (Lloyd Austin and the
/// Pentagon are one government; Business Insider relays Suspilne), seen from both sides, recorded
/// once, and announced as events.
/// </summary>
public sealed class SourceRelationsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task AnAffiliationIsCreatedWithBothSourcesAndListedFromEitherSide()
    {
        var austin = await _client.SourceAsync("Lloyd Austin", "person", "B");
        var pentagon = await _client.SourceAsync("Pentagon", "government", "B");

        var response = await _client.PostAsJsonAsync($"/sources/{austin}/relations", new { kind = "affiliated_with", relatedSourceId = pentagon });

        var relation = await response.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal($"/sources/{austin}/relations/{relation.Id()}", response.Headers.Location?.OriginalString);
        Assert.Equal("affiliated_with", relation.Str("kind"));
        Assert.Equal((austin, "Lloyd Austin", "person"), (relation.GetProperty("source").Id(), relation.GetProperty("source").Str("name"), relation.GetProperty("source").Str("kind")));
        Assert.Equal((pentagon, "Pentagon", "government"), (relation.GetProperty("relatedSource").Id(), relation.GetProperty("relatedSource").Str("name"), relation.GetProperty("relatedSource").Str("kind")));
        foreach (var side in new[] { austin, pentagon })
        {
            var listed = (await (await _client.GetAsync($"/sources/{side}/relations")).ReadJsonAsync(HttpStatusCode.OK)).Items().ToList();
            Assert.Equal([relation.Id()], listed.Select(r => r.Id()));
            Assert.Equal(austin, listed[0].GetProperty("source").Id());
        }
    }

    [Fact]
    public async Task ARelationRecordedAlreadyIs409WithItsIdAndAnAffiliationCountsBothWays()
    {
        var insider = await _client.SourceAsync("Business Insider", "outlet", "C");
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var cites = await (await _client.PostAsJsonAsync($"/sources/{insider}/relations", new { kind = "cites", relatedSourceId = suspilne })).ReadJsonAsync(HttpStatusCode.Created);
        var affiliated = await (await _client.PostAsJsonAsync($"/sources/{insider}/relations", new { kind = "affiliated_with", relatedSourceId = suspilne })).ReadJsonAsync(HttpStatusCode.Created);

        var again = await (await _client.PostAsJsonAsync($"/sources/{insider}/relations", new { kind = "cites", relatedSourceId = suspilne })).ReadProblemAsync(HttpStatusCode.Conflict);
        var reversed = await (await _client.PostAsJsonAsync($"/sources/{suspilne}/relations", new { kind = "affiliated_with", relatedSourceId = insider })).ReadProblemAsync(HttpStatusCode.Conflict);
        // Citing has a direction: Suspilne citing Business Insider is another relation.
        var citedBack = await (await _client.PostAsJsonAsync($"/sources/{suspilne}/relations", new { kind = "cites", relatedSourceId = insider })).ReadJsonAsync(HttpStatusCode.Created);

        Assert.Equal("/problems/state-conflict", again.Str("type"));
        Assert.Equal(cites.Id().ToString(), again.Str("relationId"));
        Assert.Equal(affiliated.Id().ToString(), reversed.Str("relationId"));
        Assert.Equal("cites", citedBack.Str("kind"));
        var listed = (await (await _client.GetAsync($"/sources/{suspilne}/relations")).ReadJsonAsync(HttpStatusCode.OK)).Items().Select(r => r.Id());
        Assert.Equal([citedBack.Id(), affiliated.Id(), cites.Id()], listed);
    }

    [Fact]
    public async Task ARelationToItselfToNoSourceOrOfNoKindIsRefusedAndNothingIsStored()
    {
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var missing = Guid.NewGuid();

        var itself = await (await _client.PostAsJsonAsync($"/sources/{hromadske}/relations", new { kind = "cites", relatedSourceId = hromadske })).ReadProblemAsync(HttpStatusCode.BadRequest);
        var nobody = await (await _client.PostAsJsonAsync($"/sources/{hromadske}/relations", new { kind = "cites", relatedSourceId = missing })).ReadProblemAsync(HttpStatusCode.BadRequest);
        var noKind = await (await _client.PostAsJsonAsync($"/sources/{hromadske}/relations", new { kind = "friends_with", relatedSourceId = missing })).ReadProblemAsync(HttpStatusCode.BadRequest);
        var unknownSource = await (await _client.PostAsJsonAsync($"/sources/{missing}/relations", new { kind = "cites", relatedSourceId = hromadske })).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Contains("not related to itself", Assert.Single(itself.Errors("relatedSourceId")), StringComparison.Ordinal);
        Assert.Equal($"There is no source with id {missing}.", Assert.Single(nobody.Errors("relatedSourceId")));
        Assert.Contains("affiliated_with, cites, derived_from", noKind.GetRawText(), StringComparison.Ordinal);
        Assert.Equal("/problems/not-found", unknownSource.Str("type"));
        Assert.Empty((await (await _client.GetAsync($"/sources/{hromadske}/relations")).ReadJsonAsync(HttpStatusCode.OK)).Items());
    }

    [Fact]
    public async Task ARemovedRelationIsGoneFromBothSidesAndBothChangesAreEvents()
    {
        var pentagon = await _client.SourceAsync("Pentagon", "government", "B");
        var austin = await _client.SourceAsync("Lloyd Austin", "person", "B");
        await Feed.SettleEventsAsync(api.ConnectionString);
        var mark = await _client.MarkAsync();
        var relation = await (await _client.PostAsJsonAsync($"/sources/{austin}/relations", new { kind = "affiliated_with", relatedSourceId = pentagon })).ReadJsonAsync(HttpStatusCode.Created);

        var deleted = await _client.DeleteAsync($"/sources/{pentagon}/relations/{relation.Id()}");
        var again = await _client.DeleteAsync($"/sources/{pentagon}/relations/{relation.Id()}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal("/problems/not-found", (await again.ReadProblemAsync(HttpStatusCode.NotFound)).Str("type"));
        Assert.Empty((await (await _client.GetAsync($"/sources/{austin}/relations")).ReadJsonAsync(HttpStatusCode.OK)).Items());
        await Feed.SettleEventsAsync(api.ConnectionString);
        var events = (await _client.ReadAsync(mark, "&type=source.relation_added&type=source.relation_removed"))
            .Where(e => e.Str("subject") == relation.Id().ToString()).ToList();
        Assert.Equal(["source.relation_added", "source.relation_removed"], events.Select(e => e.Str("type")));
        Assert.Equal("Pentagon", events[0].GetProperty("data").GetProperty("relatedSource").Str("name"));
        Assert.Equal(austin, events[1].GetProperty("data").GetProperty("sourceId").GetGuid());
    }

    [Fact]
    public async Task ADeletedSourceTakesItsRelationsWithIt()
    {
        var anonymous = await _client.SourceAsync("Anonymous sources in the Ukrainian military", "anonymous", "F");
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        await (await _client.PostAsJsonAsync($"/sources/{suspilne}/relations", new { kind = "cites", relatedSourceId = anonymous })).ReadJsonAsync(HttpStatusCode.Created);

        var deleted = await _client.DeleteAsync($"/sources/{anonymous}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty((await (await _client.GetAsync($"/sources/{suspilne}/relations")).ReadJsonAsync(HttpStatusCode.OK)).Items());
    }
}
