using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// Every change writes exactly its event, in the change's own transaction, and the feed hands
/// them out by position. Tests of a class run one after another, so the events after a mark
/// taken at a test's start are that test's alone.
/// </summary>
public sealed class EventsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const string Actor = "bootstrap-admin";
    private readonly HttpClient _client = api.CreateClient();

    /// <summary>The newest position, once every change answered so far has its event numbered.</summary>
    private async Task<long> MarkAsync(long from = 0)
    {
        await Feed.SettleEventsAsync(api.ConnectionString);
        return await _client.MarkAsync(from);
    }

    /// <summary>The events after <paramref name="mark"/> of every change answered so far.</summary>
    private async Task<List<JsonElement>> ReadAsync(long mark, string filters = "")
    {
        await Feed.SettleEventsAsync(api.ConnectionString);
        return await _client.ReadAsync(mark, filters);
    }

    [Fact]
    public async Task LoggingAClaimWithEvidenceWritesClaimCreatedThenEvidenceAddedForEachItem()
    {
        var source = await _client.SourceAsync();
        var mark = await MarkAsync();

        var claim = await (await _client.PostAsJsonAsync("/claims", new
        {
            statement = Story.Training,
            evidence = new[] { Story.Evidence(source, "asserts"), Story.Evidence(source, "supports") },
        })).ReadJsonAsync(HttpStatusCode.Created);

        var events = await ReadAsync(mark);
        Assert.Equal(["claim.created", "evidence.added", "evidence.added"], events.Select(e => e.Str("type")));
        var created = events[0];
        AssertCloudEvent(created, "claim.created", claim.Id());
        Assert.True(JsonElement.DeepEquals(claim, created.GetProperty("data")), "claim.created carries the claim as POST answered it, evidence included.");
        var evidence = claim.GetProperty("evidence").EnumerateArray().ToList();
        for (var i = 0; i < 2; i++)
        {
            AssertCloudEvent(events[i + 1], "evidence.added", evidence[i].Id());
            Assert.True(JsonElement.DeepEquals(evidence[i], events[i + 1].GetProperty("data")));
        }

        Assert.True(Feed.Position(events[0]) < Feed.Position(events[1]) && Feed.Position(events[1]) < Feed.Position(events[2]));
    }

    [Fact]
    public async Task ReplacingAndPatchingAClaimWriteClaimUpdatedWithTheClaimAsAnswered()
    {
        var id = await _client.ClaimAsync();
        var mark = await MarkAsync();

        var replaced = await (await _client.PutAsJsonAsync($"/claims/{id}", new { statement = "Replaced statement", language = "en" })).ReadJsonAsync(HttpStatusCode.OK);
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/claims/{id}") { Content = new StringContent("""{"summary":"Patched."}""", System.Text.Encoding.UTF8, "application/merge-patch+json") };
        patch.Headers.IfMatch.Add(new System.Net.Http.Headers.EntityTagHeaderValue($"\"{replaced.GetProperty("version").GetInt32()}\""));
        var patched = await (await _client.SendAsync(patch)).ReadJsonAsync(HttpStatusCode.OK);

        var events = await ReadAsync(mark);
        Assert.Equal(2, events.Count);
        AssertCloudEvent(events[0], "claim.updated", id);
        AssertCloudEvent(events[1], "claim.updated", id);
        Assert.True(JsonElement.DeepEquals(replaced, events[0].GetProperty("data")));
        Assert.True(JsonElement.DeepEquals(patched, events[1].GetProperty("data")));
        Assert.False(events[1].GetProperty("data").TryGetProperty("evidence", out _));
    }

    [Fact]
    public async Task APatchThatChangesNothingWritesNoEvent()
    {
        var id = await _client.ClaimAsync();
        var first = await PatchAsync(id, 1, """{"summary":"Same words."}""");
        var mark = await MarkAsync();

        var again = await PatchAsync(id, first.GetProperty("version").GetInt32(), """{"summary":"Same words."}""");

        Assert.Equal(first.GetProperty("version").GetInt32(), again.GetProperty("version").GetInt32());
        Assert.Empty(await ReadAsync(mark));
    }

    private async Task<JsonElement> PatchAsync(Guid id, int version, string body)
    {
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/claims/{id}") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/merge-patch+json") };
        patch.Headers.IfMatch.Add(new System.Net.Http.Headers.EntityTagHeaderValue($"\"{version}\""));
        return await (await _client.SendAsync(patch)).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task DeletingAClaimWritesOnlyItsTombstone()
    {
        var source = await _client.SourceAsync();
        var id = await _client.ClaimAsync(Story.Training, Story.Evidence(source, "asserts"));
        var mark = await MarkAsync();

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/claims/{id}")).StatusCode);

        var deleted = Assert.Single(await ReadAsync(mark));
        AssertCloudEvent(deleted, "claim.deleted", id);
        Assert.Equal($$"""{"id":"{{id}}"}""", deleted.GetProperty("data").GetRawText());
    }

    [Fact]
    public async Task AStatusChangeWritesTheMoveWithTheStatusAnswerAndSettingItAgainWritesNothing()
    {
        var id = await _client.ClaimAsync();
        var mark = await MarkAsync();

        var answer = await _client.SetStatusAsync(id, "in_review", "Looking into it.");
        await _client.SetStatusAsync(id, "in_review", "Looking into it.");

        var changed = Assert.Single(await ReadAsync(mark));
        AssertCloudEvent(changed, "claim.status_changed", id);
        var data = changed.GetProperty("data");
        Assert.Equal("unverified", data.Str("from"));
        Assert.Equal("in_review", data.Str("to"));
        Assert.Equal("Looking into it.", data.Str("note"));
        Assert.Equal(Actor, data.Str("changedBy"));
        Assert.True(JsonElement.DeepEquals(answer, data.GetProperty("status")), "The status is the answer GET /claims/{id}/status gives.");
        Assert.True(JsonElement.DeepEquals(answer, await (await _client.GetAsync($"/claims/{id}/status")).ReadJsonAsync(HttpStatusCode.OK)));
    }

    [Fact]
    public async Task RefusedChangesWriteNoEvent()
    {
        var id = await _client.ClaimAsync();
        var mark = await MarkAsync();

        // A verdict without its evidence (409), a stale If-Match (412), an invalid body (400),
        // and a claim whose evidence names a missing source, refused inside its transaction.
        await _client.SetStatusAsync(id, "confirmed", "Seen it.", HttpStatusCode.Conflict);
        using var stale = new HttpRequestMessage(HttpMethod.Put, $"/claims/{id}") { Content = JsonContent.Create(new { statement = "Stale" }) };
        stale.Headers.IfMatch.Add(new System.Net.Http.Headers.EntityTagHeaderValue("\"99\""));
        await (await _client.SendAsync(stale)).ReadProblemAsync(HttpStatusCode.PreconditionFailed);
        await (await _client.PutAsJsonAsync($"/claims/{id}", new { statement = "" })).ReadProblemAsync(HttpStatusCode.BadRequest);
        var missing = Guid.NewGuid();
        var refused = await (await _client.PostAsJsonAsync("/claims", new { statement = "Orphan", evidence = new[] { Story.Evidence(missing, "asserts") } }))
            .ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(refused.Errors("evidence[0].sourceId"));

        Assert.Empty(await ReadAsync(mark));
    }

    [Fact]
    public async Task LinkingAndUnlinkingEvidenceWriteEvidenceAddedAndATombstoneNamingTheClaim()
    {
        var source = await _client.SourceAsync();
        var claim = await _client.ClaimAsync();
        var mark = await MarkAsync();

        var item = await (await _client.PostAsJsonAsync($"/claims/{claim}/evidence", Story.Evidence(source, "refutes"))).ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/claims/{claim}/evidence/{item.Id()}")).StatusCode);

        var events = await ReadAsync(mark);
        Assert.Equal(2, events.Count);
        AssertCloudEvent(events[0], "evidence.added", item.Id());
        Assert.True(JsonElement.DeepEquals(item, events[0].GetProperty("data")));
        AssertCloudEvent(events[1], "evidence.removed", item.Id());
        Assert.Equal($$"""{"id":"{{item.Id()}}","claimId":"{{claim}}"}""", events[1].GetProperty("data").GetRawText());
    }

    [Fact]
    public async Task RemovingTheEvidenceAVerdictRestsOnIsRefusedWithNoEvent()
    {
        var source = await _client.SourceAsync();
        var claim = await _client.ClaimAsync(Story.Training, Story.Evidence(source, "supports"));
        await _client.SetStatusAsync(claim, "confirmed", "Corroborated.");
        var evidence = (await (await _client.GetAsync($"/claims/{claim}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("evidence")[0].Id();
        var mark = await MarkAsync();

        await (await _client.DeleteAsync($"/claims/{claim}/evidence/{evidence}")).ReadProblemAsync(HttpStatusCode.Conflict);

        Assert.Empty(await ReadAsync(mark));
    }

    [Fact]
    public async Task EachChangeOfASourceWritesItsEventAndARefusedDeleteWritesNone()
    {
        var mark = await MarkAsync();

        var created = await (await _client.PostAsJsonAsync("/sources", new { name = "Suspilne", kind = "outlet" })).ReadJsonAsync(HttpStatusCode.Created);
        var id = created.Id();
        var replaced = await (await _client.PutAsJsonAsync($"/sources/{id}", new { name = "Suspilne News", kind = "outlet", reliability = "B" })).ReadJsonAsync(HttpStatusCode.OK);
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/sources/{id}") { Content = new StringContent("""{"description":"Public broadcaster."}""", System.Text.Encoding.UTF8, "application/merge-patch+json") };
        patch.Headers.IfMatch.Add(new System.Net.Http.Headers.EntityTagHeaderValue($"\"{replaced.GetProperty("version").GetInt32()}\""));
        var patched = await (await _client.SendAsync(patch)).ReadJsonAsync(HttpStatusCode.OK);
        var claim = await _client.ClaimAsync(Story.Training, Story.Evidence(id, "asserts"));
        await (await _client.DeleteAsync($"/sources/{id}")).ReadProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/claims/{claim}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/sources/{id}")).StatusCode);

        var events = await ReadAsync(mark);
        Assert.Equal(["source.created", "source.updated", "source.updated", "claim.created", "evidence.added", "claim.deleted", "source.deleted"], events.Select(e => e.Str("type")));
        AssertCloudEvent(events[0], "source.created", id);
        Assert.True(JsonElement.DeepEquals(created, events[0].GetProperty("data")));
        Assert.True(JsonElement.DeepEquals(replaced, events[1].GetProperty("data")));
        Assert.True(JsonElement.DeepEquals(patched, events[2].GetProperty("data")));
        AssertCloudEvent(events[6], "source.deleted", id);
        Assert.Equal($$"""{"id":"{{id}}"}""", events[6].GetProperty("data").GetRawText());
    }

    [Fact]
    public async Task AReplayedIdempotentWriteWritesNoSecondEvent()
    {
        var source = await _client.SourceAsync();
        var claim = await _client.ClaimAsync();
        var mark = await MarkAsync();

        var writes = new (string Url, object Body)[]
        {
            ("/sources", new { name = "Hromadske", kind = "outlet" }),
            ("/claims", new { statement = "Troops were seen in Kursk." }),
            ($"/claims/{claim}/evidence", Story.Evidence(source, "mentions")),
        };
        foreach (var (url, body) in writes)
        {
            var key = Guid.NewGuid().ToString();
            for (var attempt = 0; attempt < 2; attempt++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body) };
                request.Headers.Add("Idempotency-Key", $"\"{key}\"");
                await (await _client.SendAsync(request)).ReadJsonAsync(HttpStatusCode.Created);
            }
        }

        Assert.Equal(["source.created", "claim.created", "evidence.added"], (await ReadAsync(mark)).Select(e => e.Str("type")));
    }

    [Fact]
    public async Task TheTypeAndClaimFiltersCombine()
    {
        var source = await _client.SourceAsync();
        var mark = await MarkAsync();
        var mine = await _client.ClaimAsync(Story.Training, Story.Evidence(source, "asserts"));
        var other = await _client.ClaimAsync(Story.Deserted, Story.Evidence(source, "asserts"));
        await _client.SetStatusAsync(mine, "in_review", null);
        await _client.SetStatusAsync(other, "in_review", null);

        var ofMine = await ReadAsync(mark, $"&claimId={mine}");
        var changes = await ReadAsync(mark, "&type=claim.status_changed&type=claim.created");
        var mineCreated = await ReadAsync(mark, $"&claimId={mine}&type=claim.created");

        Assert.Equal(["claim.created", "evidence.added", "claim.status_changed"], ofMine.Select(e => e.Str("type")));
        Assert.All(ofMine, e => Assert.True(e.Str("subject") == mine.ToString() || e.GetProperty("data").GetProperty("claimId").GetGuid() == mine));
        Assert.Equal(
            [("claim.created", mine), ("claim.created", other), ("claim.status_changed", mine), ("claim.status_changed", other)],
            changes.Select(e => (e.Str("type"), e.GetProperty("subject").GetGuid())));
        Assert.Equal(mine, Assert.Single(mineCreated).GetProperty("subject").GetGuid());
    }

    [Fact]
    public async Task APageLinksToTheNextWithAfterAndAnEmptyPageHasNoCursor()
    {
        var first = await _client.ClaimAsync();
        var mark = await MarkAsync();
        await _client.SetStatusAsync(first, "in_review", null);
        await _client.SetStatusAsync(first, "unverified", null);

        var response = await _client.GetAsync($"/events?after={mark}&limit=1");
        var page = await response.ReadJsonAsync(HttpStatusCode.OK);
        var item = Assert.Single(page.Items());
        Assert.Equal(item.Str("id"), page.Str("nextCursor"));
        var link = Assert.Single(response.Headers.GetValues("Link"));
        Assert.Contains($"after={item.Str("id")}", link, StringComparison.Ordinal);
        Assert.Contains("limit=1", link, StringComparison.Ordinal);
        Assert.DoesNotContain("cursor=", link, StringComparison.Ordinal);

        var end = await MarkAsync(mark);
        var empty = await _client.GetAsync($"/events?after={end}");
        var emptyPage = await empty.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Empty(emptyPage.Items());
        Assert.Equal(JsonValueKind.Null, emptyPage.GetProperty("nextCursor").ValueKind);
        Assert.False(empty.Headers.Contains("Link"));
    }

    [Theory]
    [InlineData("after=-1", "after")]
    [InlineData("type=claim.exploded", "type[0]")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=201", "limit")]
    public async Task ABadQueryIs400NamingTheParameter(string query, string field)
    {
        var problem = await (await _client.GetAsync($"/events?{query}")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.NotEmpty(problem.Errors(field));
    }

    [Fact]
    public async Task TheDocumentDescribesTheFeedAsCloudEventsWithTheirRequiredAttributes()
    {
        var document = await _client.ReadDocumentAsync();

        var schemas = document.GetProperty("components").GetProperty("schemas");
        var cloudEvent = schemas.GetProperty("ChangeEvent");
        Assert.Equal(
            ["data", "datacontenttype", "id", "source", "specversion", "subject", "time", "type"],
            cloudEvent.GetProperty("required").EnumerateArray().Select(r => r.GetString()).Order(StringComparer.Ordinal));
        Assert.True(cloudEvent.GetProperty("properties").TryGetProperty("actor", out _));
        Assert.Equal(
            ["claim.created", "claim.updated", "claim.deleted", "claim.status_changed", "claim.relation_added", "claim.relation_removed", "evidence.added", "evidence.removed", "source.created", "source.updated", "source.deleted", "source.relation_added", "source.relation_removed"],
            schemas.GetProperty("EventType").GetProperty("enum").EnumerateArray().Select(v => v.GetString()));
        var type = document.GetProperty("paths").GetProperty("/events").GetProperty("get").GetProperty("parameters").EnumerateArray().Single(p => p.Str("name") == "type");
        Assert.Equal("#/components/schemas/EventType", type.GetProperty("schema").GetProperty("items").Str("$ref"));
    }

    private static void AssertCloudEvent(JsonElement cloudEvent, string type, Guid subject)
    {
        Assert.Equal("1.0", cloudEvent.Str("specversion"));
        Assert.Equal("/claims-api", cloudEvent.Str("source"));
        Assert.Equal(type, cloudEvent.Str("type"));
        Assert.Equal(subject.ToString(), cloudEvent.Str("subject"));
        Assert.Equal("application/json", cloudEvent.Str("datacontenttype"));
        Assert.Equal(Actor, cloudEvent.Str("actor"));
        Assert.True(Feed.Position(cloudEvent) > 0);
        Assert.True(DateTimeOffset.UtcNow - cloudEvent.GetProperty("time").GetDateTimeOffset() < TimeSpan.FromMinutes(5));
    }
}
