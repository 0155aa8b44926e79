using Claims.Tests.Infrastructure;

namespace Claims.Tests;

public sealed class VerificationTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const string Training = "North Korean soldiers are training in Russia.";
    private const string Desertion = "North Korean soldiers sent to Russia have deserted.";

    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task ANewClaimStartsUnverifiedWithOneHistoryEntry()
    {
        var claim = await _client.ClaimAsync(Training);

        var status = await StatusAsync(claim);
        var history = await HistoryAsync(claim);

        Assert.Equal(claim, status.GetProperty("claimId").GetGuid());
        Assert.Equal("unverified", status.Str("status"));
        Assert.Equal(JsonValueKind.Null, status.GetProperty("note").ValueKind);
        AssertCounts(status, asserts: 0, supports: 0, refutes: 0, unableToVerify: 0, mentions: 0);
        var first = Assert.Single(history);
        Assert.Equal(JsonValueKind.Null, first.GetProperty("fromStatus").ValueKind);
        Assert.Equal("unverified", first.Str("toStatus"));
    }

    [Fact]
    public async Task MovingToInReviewNeedsNoNote()
    {
        var claim = await _client.ClaimAsync(Training);

        var response = await _client.PutAsJsonAsync($"/claims/{claim}/status", new { status = "in_review" });

        var body = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("in_review", body.Str("status"));
        Assert.Equal(JsonValueKind.Null, body.GetProperty("note").ValueKind);
        Assert.Equal("in_review", (await StatusAsync(claim)).Str("status"));
        var change = (await HistoryAsync(claim))[^1];
        Assert.Equal("unverified", change.Str("fromStatus"));
        Assert.Equal("in_review", change.Str("toStatus"));
        Assert.Equal(2, (await ClaimAsync(claim)).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task ConfirmingWithoutANoteIs400NamingNote()
    {
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var claim = await _client.ClaimAsync(Desertion, Story.Evidence(suspilne, "supports", "18 soldiers deserted"));

        var problem = await _client.SetStatusAsync(claim, "confirmed", null, HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors("note"), m => m.Contains("confirmed", StringComparison.Ordinal));
        Assert.Equal("unverified", (await StatusAsync(claim)).Str("status"));
        Assert.Single(await HistoryAsync(claim));
    }

    [Fact]
    public async Task ConfirmingWithoutSupportingEvidenceIs409AndChangesNothing()
    {
        var austin = await _client.SourceAsync();
        var claim = await _client.ClaimAsync(Training, Story.Evidence(austin, "asserts"));
        await _client.SetStatusAsync(claim, "in_review", "Seeking a second source.");
        var before = await ClaimAsync(claim);
        var historyBefore = await HistoryAsync(claim);

        var problem = await _client.SetStatusAsync(claim, "confirmed", "Lloyd Austin said so.", HttpStatusCode.Conflict);

        Assert.Contains("'supports'", problem.Str("detail"));
        var status = await StatusAsync(claim);
        Assert.Equal("in_review", status.Str("status"));
        Assert.Equal("Seeking a second source.", status.Str("note"));
        var after = await ClaimAsync(claim);
        Assert.Equal(before.GetProperty("version").GetInt32(), after.GetProperty("version").GetInt32());
        Assert.Equal(historyBefore.Select(h => h.Id()), (await HistoryAsync(claim)).Select(h => h.Id()));
    }

    [Fact]
    public async Task ConfirmingWithSupportingEvidenceRecordsStatusNoteAndEvidenceCounts()
    {
        var source = await _client.SourceAsync("Suspilne", "outlet", "C");
        var evidence = new List<object>();
        foreach (var (stance, count) in new[] { ("asserts", 1), ("supports", 2), ("refutes", 3), ("unable_to_verify", 4), ("mentions", 5) })
        {
            evidence.AddRange(Enumerable.Range(0, count).Select(i => Story.Evidence(source, stance, $"report {i}")));
        }

        var claim = await _client.ClaimAsync(Desertion, [.. evidence]);

        var body = await _client.SetStatusAsync(claim, "confirmed", "  Two Ukrainian outlets and a second witness.  ");

        Assert.Equal("confirmed", body.Str("status"));
        Assert.Equal("Two Ukrainian outlets and a second witness.", body.Str("note"));
        var status = await StatusAsync(claim);
        Assert.Equal("confirmed", status.Str("status"));
        Assert.Equal("Two Ukrainian outlets and a second witness.", status.Str("note"));
        AssertCounts(status, asserts: 1, supports: 2, refutes: 3, unableToVerify: 4, mentions: 5);
        var stored = await ClaimAsync(claim);
        Assert.Equal("confirmed", stored.Str("status"));
        Assert.Equal("Two Ukrainian outlets and a second witness.", stored.Str("statusNote"));
        Assert.Equal(2, stored.GetProperty("version").GetInt32());
        var change = (await HistoryAsync(claim))[^1];
        Assert.Equal("unverified", change.Str("fromStatus"));
        Assert.Equal("confirmed", change.Str("toStatus"));
        Assert.Equal("Two Ukrainian outlets and a second witness.", change.Str("note"));
    }

    [Fact]
    public async Task MarkingFalseNeedsRefutingEvidence()
    {
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var agency = await _client.SourceAsync("Ukraine's defense agency", "government", "C");
        var claim = await _client.ClaimAsync(Desertion, Story.Evidence(hromadske, "asserts", "18 soldiers deserted"));

        var refused = await _client.SetStatusAsync(claim, "false", "The agency denies it.", HttpStatusCode.Conflict);

        Assert.Contains("'refutes'", refused.Str("detail"));
        Assert.Equal("unverified", (await StatusAsync(claim)).Str("status"));

        var added = await _client.PostAsJsonAsync($"/claims/{claim}/evidence", Story.Evidence(agency, "refutes", "no desertions recorded"));
        await added.ReadJsonAsync(HttpStatusCode.Created);
        var accepted = await _client.SetStatusAsync(claim, "false", "The agency denies it.");

        Assert.Equal("false", accepted.Str("status"));
        var status = await StatusAsync(claim);
        Assert.Equal("false", status.Str("status"));
        AssertCounts(status, asserts: 1, supports: 0, refutes: 1, unableToVerify: 0, mentions: 0);
    }

    [Theory]
    [InlineData("disputed")]
    [InlineData("inconclusive")]
    public async Task DisputedAndInconclusiveNeedANoteButNoEvidence(string target)
    {
        var claim = await _client.ClaimAsync(Desertion);

        var missing = await _client.SetStatusAsync(claim, target, null, HttpStatusCode.BadRequest);
        var blank = await _client.SetStatusAsync(claim, target, "   ", HttpStatusCode.BadRequest);

        Assert.Contains(missing.Errors("note"), m => m.Contains(target, StringComparison.Ordinal));
        Assert.NotEmpty(blank.Errors("note"));
        Assert.Equal("unverified", (await StatusAsync(claim)).Str("status"));

        var body = await _client.SetStatusAsync(claim, target, "Business Insider could not verify it either way.");

        Assert.Equal(target, body.Str("status"));
        var status = await StatusAsync(claim);
        Assert.Equal(target, status.Str("status"));
        Assert.Equal("Business Insider could not verify it either way.", status.Str("note"));
    }

    [Theory]
    [InlineData("Seeking a second source.")]
    [InlineData("  Seeking a second source.  ")]
    [InlineData(null)]
    public async Task SettingTheCurrentStatusAgainWithTheSameNoteOrNoneChangesNothing(string? note)
    {
        var claim = await _client.ClaimAsync(Training);
        await _client.SetStatusAsync(claim, "in_review", "Seeking a second source.");
        var before = await ClaimAsync(claim);
        var historyBefore = await HistoryAsync(claim);

        var body = await _client.SetStatusAsync(claim, "in_review", note);

        Assert.Equal("in_review", body.Str("status"));
        Assert.Equal("Seeking a second source.", body.Str("note"));
        await AssertUnchangedAsync(claim, before, historyBefore);
    }

    [Fact]
    public async Task SettingTheCurrentStatusAgainWithADifferentNoteIs409ShowingWhatIsStoredAndChangesNothing()
    {
        var claim = await _client.ClaimAsync(Training);
        await _client.SetStatusAsync(claim, "in_review", "Seeking a second source.");
        var before = await ClaimAsync(claim);
        var historyBefore = await HistoryAsync(claim);

        var problem = await _client.SetStatusAsync(claim, "in_review", "A different note.", HttpStatusCode.Conflict);

        Assert.Equal("/problems/note-needs-status-change", problem.Str("type"));
        Assert.Equal("The claim already has this status; the new note was not stored.", problem.Str("title"));
        Assert.Contains("already in_review", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Contains("\"Seeking a second source.\"", problem.Str("detail"), StringComparison.Ordinal);
        var current = problem.GetProperty("current");
        Assert.Equal("in_review", current.Str("status"));
        Assert.Equal("Seeking a second source.", current.Str("note"));
        await AssertUnchangedAsync(claim, before, historyBefore);
    }

    private async Task AssertUnchangedAsync(Guid claim, JsonElement before, List<JsonElement> historyBefore)
    {
        var after = await ClaimAsync(claim);
        Assert.Equal(before.GetProperty("version").GetInt32(), after.GetProperty("version").GetInt32());
        Assert.Equal(before.GetProperty("updatedAt").GetDateTime(), after.GetProperty("updatedAt").GetDateTime());
        Assert.Equal("Seeking a second source.", after.Str("statusNote"));
        Assert.Equal(historyBefore.Select(h => h.Id()), (await HistoryAsync(claim)).Select(h => h.Id()));
    }

    [Fact]
    public async Task HistoryListsEveryChangeOldestFirst()
    {
        var claim = await _client.ClaimAsync(Desertion);
        await _client.SetStatusAsync(claim, "in_review", null);
        await _client.SetStatusAsync(claim, "disputed", "Suspilne and Hromadske report it; Business Insider could not verify.");
        await _client.SetStatusAsync(claim, "in_review", "New reports came in.");
        await _client.SetStatusAsync(claim, "inconclusive", "Nobody could verify the anonymous sources.");

        var history = await HistoryAsync(claim);

        Assert.Equal(
            [(null, "unverified"), ("unverified", "in_review"), ("in_review", "disputed"), ("disputed", "in_review"), ("in_review", "inconclusive")],
            history.Select(h => (h.GetProperty("fromStatus").GetString(), h.Str("toStatus"))));
        Assert.Equal(JsonValueKind.Null, history[1].GetProperty("note").ValueKind);
        Assert.Equal("Suspilne and Hromadske report it; Business Insider could not verify.", history[2].Str("note"));
        Assert.Equal("Nobody could verify the anonymous sources.", history[4].Str("note"));
        var times = history.Select(h => h.GetProperty("changedAt").GetDateTime()).ToList();
        Assert.Equal(times.Order(), times);
    }

    [Fact]
    public async Task HistoryPagesOldestFirstWithLimit()
    {
        var claim = await _client.ClaimAsync(Desertion);
        await _client.SetStatusAsync(claim, "in_review", null);
        await _client.SetStatusAsync(claim, "disputed", "Outlets disagree.");

        var first = await (await _client.GetAsync($"/claims/{claim}/history?limit=2")).ReadJsonAsync(HttpStatusCode.OK);
        var cursor = first.GetProperty("nextCursor").GetString();
        Assert.NotNull(cursor);
        var second = await (await _client.GetAsync($"/claims/{claim}/history?limit=2&cursor={Uri.EscapeDataString(cursor)}")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(["unverified", "in_review"], first.GetProperty("items").EnumerateArray().Select(h => h.Str("toStatus")));
        Assert.Equal(["disputed"], second.GetProperty("items").EnumerateArray().Select(h => h.Str("toStatus")));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);
    }

    [Theory]
    [InlineData("GET", "status")]
    [InlineData("GET", "history")]
    [InlineData("PUT", "status")]
    public async Task AnUnknownClaimIs404Problem(string method, string resource)
    {
        var unknown = Guid.CreateVersion7();
        var request = new HttpRequestMessage(new HttpMethod(method), $"/claims/{unknown}/{resource}");
        if (method == "PUT")
        {
            request.Content = JsonContent.Create(new { status = "in_review" });
        }

        var problem = await (await _client.SendAsync(request)).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal("/problems/not-found", problem.Str("type"));
        Assert.Equal($"There is no claim with id {unknown}.", problem.Str("detail"));
    }

    [Fact]
    public async Task AnUnknownStatusIs400ListingTheAllowedValues()
    {
        var claim = await _client.ClaimAsync(Training);

        var problem = await _client.SetStatusAsync(claim, "verified", "Lloyd Austin said so.", HttpStatusCode.BadRequest);

        var message = Assert.Single(problem.Errors("status"));
        foreach (var allowed in new[] { "unverified", "in_review", "confirmed", "disputed", "false", "inconclusive" })
        {
            Assert.Contains(allowed, message);
        }

        Assert.Equal("unverified", (await StatusAsync(claim)).Str("status"));
        Assert.Single(await HistoryAsync(claim));
    }

    [Fact]
    public async Task TenConcurrentMovesWithTheSameETagLetExactlyOneThroughAndRecordOneHistoryEntry()
    {
        var claim = await _client.ClaimAsync(Training);
        var read = await _client.GetAsync($"/claims/{claim}");
        var etag = read.Headers.ETag!;
        var raw = api.CreateClient(api.AdminKey, sendCurrentETag: false);

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
        {
            var request = new HttpRequestMessage(HttpMethod.Put, $"/claims/{claim}/status")
            {
                Content = JsonContent.Create(new { status = "in_review", note = "Seeking a second source." }),
            };
            request.Headers.IfMatch.Add(etag);
            return raw.SendAsync(request);
        }));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        var refused = responses.Where(r => r.StatusCode != HttpStatusCode.OK).ToList();
        Assert.Equal(9, refused.Count);
        foreach (var response in refused)
        {
            var problem = await response.ReadProblemAsync(HttpStatusCode.PreconditionFailed);
            Assert.Equal("\"2\"", problem.Str("currentETag"));
        }

        var history = await HistoryAsync(claim);
        Assert.Equal(["unverified", "in_review"], history.Select(h => h.Str("toStatus")));
        Assert.Equal(2, (await ClaimAsync(claim)).GetProperty("version").GetInt32());
    }

    private static void AssertCounts(JsonElement status, int asserts, int supports, int refutes, int unableToVerify, int mentions)
    {
        var counts = status.GetProperty("evidenceCounts");
        Assert.Equal(
            new[] { asserts, supports, refutes, unableToVerify, mentions },
            new[] { "asserts", "supports", "refutes", "unableToVerify", "mentions" }.Select(n => counts.GetProperty(n).GetInt32()));
    }

    private async Task<JsonElement> StatusAsync(Guid claim) =>
        await (await _client.GetAsync($"/claims/{claim}/status")).ReadJsonAsync(HttpStatusCode.OK);

    private async Task<JsonElement> ClaimAsync(Guid claim) =>
        await (await _client.GetAsync($"/claims/{claim}")).ReadJsonAsync(HttpStatusCode.OK);

    private async Task<List<JsonElement>> HistoryAsync(Guid claim)
    {
        var page = await (await _client.GetAsync($"/claims/{claim}/history?limit=200")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, page.GetProperty("nextCursor").ValueKind);
        return [.. page.GetProperty("items").EnumerateArray()];
    }
}
