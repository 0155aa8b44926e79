using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// POST, GET and DELETE /claims/{id}/relations: kinds with and without a direction, seen from
/// both sides, recorded once, cycles of duplicate_of refused, and every change an event.
/// </summary>
public sealed class ClaimRelationsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task ARelationIsCreatedWithBothClaimsAndListedFromEitherSide()
    {
        var training = await _client.ClaimAsync(Story.Training);
        var troops = await _client.ClaimAsync(Story.Troops);

        var response = await _client.PostAsJsonAsync($"/claims/{training}/relations", new { kind = "refines", relatedClaimId = troops });

        var relation = await response.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal($"/claims/{training}/relations/{relation.Id()}", response.Headers.Location?.OriginalString);
        Assert.Equal("refines", relation.Str("kind"));
        Assert.Equal((training, Story.Training, "en", "unverified"),
            (relation.GetProperty("claim").Id(), relation.GetProperty("claim").Str("statement"), relation.GetProperty("claim").Str("language"), relation.GetProperty("claim").Str("status")));
        Assert.Equal((troops, Story.Troops), (relation.GetProperty("relatedClaim").Id(), relation.GetProperty("relatedClaim").Str("statement")));
        foreach (var side in new[] { training, troops })
        {
            var listed = (await (await _client.GetAsync($"/claims/{side}/relations")).ReadJsonAsync(HttpStatusCode.OK)).Items().ToList();
            Assert.Equal([relation.Id()], listed.Select(r => r.Id()));
            Assert.Equal(training, listed[0].GetProperty("claim").Id());
        }

        // refines and contradicts change nothing about either claim's status or listing.
        var status = await (await _client.GetAsync($"/claims/{training}/status")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.False(status.TryGetProperty("canonicalClaimId", out _), status.GetRawText());
    }

    [Fact]
    public async Task ARelationRecordedAlreadyIs409WithItsIdAndAnUndirectedOneCountsBothWays()
    {
        var deserted = await _client.ClaimAsync(Story.Deserted);
        var hostages = await _client.ClaimAsync(Story.Hostages);
        var contradicts = await (await _client.PostAsJsonAsync($"/claims/{deserted}/relations", new { kind = "contradicts", relatedClaimId = hostages })).ReadJsonAsync(HttpStatusCode.Created);
        var refines = await (await _client.PostAsJsonAsync($"/claims/{deserted}/relations", new { kind = "refines", relatedClaimId = hostages })).ReadJsonAsync(HttpStatusCode.Created);

        var reversed = await (await _client.PostAsJsonAsync($"/claims/{hostages}/relations", new { kind = "contradicts", relatedClaimId = deserted })).ReadProblemAsync(HttpStatusCode.Conflict);
        var again = await (await _client.PostAsJsonAsync($"/claims/{deserted}/relations", new { kind = "refines", relatedClaimId = hostages })).ReadProblemAsync(HttpStatusCode.Conflict);
        // refines has a direction: the other claim refining this one is another relation.
        var refinedBack = await (await _client.PostAsJsonAsync($"/claims/{hostages}/relations", new { kind = "refines", relatedClaimId = deserted })).ReadJsonAsync(HttpStatusCode.Created);

        Assert.Equal("/problems/state-conflict", reversed.Str("type"));
        Assert.Equal(contradicts.Id().ToString(), reversed.Str("relationId"));
        Assert.Equal(refines.Id().ToString(), again.Str("relationId"));
        var listed = (await (await _client.GetAsync($"/claims/{deserted}/relations")).ReadJsonAsync(HttpStatusCode.OK)).Items().Select(r => r.Id());
        Assert.Equal([refinedBack.Id(), refines.Id(), contradicts.Id()], listed);
    }

    [Fact]
    public async Task ADuplicateOfCycleIsRefusedDirectlyAndThroughAChain()
    {
        var first = await _client.ClaimAsync(Story.Deserted);
        var second = await _client.ClaimAsync(Story.UkrainianDesertion);
        var third = await _client.ClaimAsync(Story.RussianDesertion);
        await RelateAsync(second, "duplicate_of", first);
        await RelateAsync(third, "duplicate_of", second);

        var direct = await (await _client.PostAsJsonAsync($"/claims/{first}/relations", new { kind = "duplicate_of", relatedClaimId = second })).ReadProblemAsync(HttpStatusCode.Conflict);
        var chained = await (await _client.PostAsJsonAsync($"/claims/{first}/relations", new { kind = "duplicate_of", relatedClaimId = third })).ReadProblemAsync(HttpStatusCode.Conflict);
        var twice = await (await _client.PostAsJsonAsync($"/claims/{second}/relations", new { kind = "duplicate_of", relatedClaimId = third })).ReadProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal("/problems/duplicate-cycle", direct.Str("type"));
        Assert.Contains($"Claim {second} is recorded as a duplicate of this claim", direct.Str("detail"), StringComparison.Ordinal);
        Assert.Equal("/problems/duplicate-cycle", chained.Str("type"));
        Assert.Contains($"Claim {third} is recorded as a duplicate of this claim", chained.Str("detail"), StringComparison.Ordinal);
        Assert.Equal("/problems/state-conflict", twice.Str("type"));
        Assert.Equal(first.ToString(), twice.Str("duplicateOf"));
        // The chain's end is every member's canonical; the first claim stays a claim of its own.
        Assert.Equal(first, await CanonicalAsync(third));
        Assert.Equal(first, await CanonicalAsync(second));
        Assert.Null(await CanonicalAsync(first));
        Assert.Equal(2, (await (await _client.GetAsync($"/claims/{second}/relations")).ReadJsonAsync(HttpStatusCode.OK)).Items().Count());
    }

    [Fact]
    public async Task ARelationToItselfToNoClaimOrOfNoKindIsRefusedAndNothingIsStored()
    {
        var claim = await _client.ClaimAsync(Story.Bennett);
        var missing = Guid.NewGuid();

        var itself = await (await _client.PostAsJsonAsync($"/claims/{claim}/relations", new { kind = "related", relatedClaimId = claim })).ReadProblemAsync(HttpStatusCode.BadRequest);
        var nothing = await (await _client.PostAsJsonAsync($"/claims/{claim}/relations", new { kind = "related", relatedClaimId = missing })).ReadProblemAsync(HttpStatusCode.BadRequest);
        var noKind = await (await _client.PostAsJsonAsync($"/claims/{claim}/relations", new { kind = "same_as", relatedClaimId = missing })).ReadProblemAsync(HttpStatusCode.BadRequest);
        var unknownClaim = await (await _client.PostAsJsonAsync($"/claims/{missing}/relations", new { kind = "related", relatedClaimId = claim })).ReadProblemAsync(HttpStatusCode.NotFound);
        var unknownList = await (await _client.GetAsync($"/claims/{missing}/relations")).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Contains("not related to itself", Assert.Single(itself.Errors("relatedClaimId")), StringComparison.Ordinal);
        Assert.Equal($"There is no claim with id {missing}.", Assert.Single(nothing.Errors("relatedClaimId")));
        Assert.Contains("duplicate_of, contradicts, refines, related", noKind.GetRawText(), StringComparison.Ordinal);
        Assert.Equal("/problems/not-found", unknownClaim.Str("type"));
        Assert.Equal("/problems/not-found", unknownList.Str("type"));
        Assert.Empty((await (await _client.GetAsync($"/claims/{claim}/relations")).ReadJsonAsync(HttpStatusCode.OK)).Items());
    }

    [Fact]
    public async Task ARemovedRelationIsGoneFromBothSidesAndBothChangesAreEvents()
    {
        var training = await _client.ClaimAsync(Story.Training);
        var korean = await _client.ClaimAsync(Story.KoreanTraining);
        await Feed.SettleEventsAsync(api.ConnectionString);
        var mark = await _client.MarkAsync();
        var relation = await RelateAsync(korean, "duplicate_of", training);

        var deleted = await _client.DeleteAsync($"/claims/{training}/relations/{relation}");
        var again = await _client.DeleteAsync($"/claims/{training}/relations/{relation}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal("/problems/not-found", (await again.ReadProblemAsync(HttpStatusCode.NotFound)).Str("type"));
        Assert.Empty((await (await _client.GetAsync($"/claims/{korean}/relations")).ReadJsonAsync(HttpStatusCode.OK)).Items());
        Assert.Null(await CanonicalAsync(korean));
        await Feed.SettleEventsAsync(api.ConnectionString);
        var events = (await _client.ReadAsync(mark, "&type=claim.relation_added&type=claim.relation_removed"))
            .Where(e => e.Str("subject") == relation.ToString()).ToList();
        Assert.Equal(["claim.relation_added", "claim.relation_removed"], events.Select(e => e.Str("type")));
        Assert.Equal(Story.Training, events[0].GetProperty("data").GetProperty("relatedClaim").Str("statement"));
        Assert.Equal(korean, events[1].GetProperty("data").GetProperty("claimId").GetGuid());
        Assert.Equal(training, events[1].GetProperty("data").GetProperty("relatedClaimId").GetGuid());
    }

    private async Task<Guid> RelateAsync(Guid claim, string kind, Guid related) =>
        (await (await _client.PostAsJsonAsync($"/claims/{claim}/relations", new { kind, relatedClaimId = related })).ReadJsonAsync(HttpStatusCode.Created)).Id();

    private async Task<Guid?> CanonicalAsync(Guid claim)
    {
        var read = await (await _client.GetAsync($"/claims/{claim}")).ReadJsonAsync(HttpStatusCode.OK);
        return read.TryGetProperty("canonicalClaimId", out var canonical) ? canonical.GetGuid() : null;
    }
}
