using System.Net.Http.Headers;
using Claims.Tests.Infrastructure;

namespace Claims.Tests;

public sealed class VerificationTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task ANewClaimStartsUnverifiedWithOneHistoryEntry()
    {
        var claim = await _client.ClaimAsync(Story.Training);

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
        var claim = await _client.ClaimAsync(Story.Training);

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
        var claim = await _client.ClaimAsync(Story.Deserted, Story.Evidence(suspilne, "supports", "18 soldiers deserted"));

        var problem = await _client.SetStatusAsync(claim, "confirmed", null, HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors("note"), m => m.Contains("confirmed", StringComparison.Ordinal));
        Assert.Equal("unverified", (await StatusAsync(claim)).Str("status"));
        Assert.Single(await HistoryAsync(claim));
    }

    [Fact]
    public async Task ConfirmingWithoutSupportingEvidenceIs409AndChangesNothing()
    {
        var austin = await _client.SourceAsync();
        var claim = await _client.ClaimAsync(Story.Training, Story.Evidence(austin, "asserts"));
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
        // The asserter is one source and the rest another: support from the asserter itself would
        // not count (IndependentOriginsTests).
        var source = await _client.SourceAsync("Suspilne", "outlet", "C");
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var evidence = new List<object>();
        foreach (var (stance, count) in new[] { ("asserts", 1), ("supports", 2), ("refutes", 3), ("unable_to_verify", 4), ("mentions", 5) })
        {
            evidence.AddRange(Enumerable.Range(0, count).Select(i => Story.Evidence(stance == "asserts" ? source : hromadske, stance, $"report {i}")));
        }

        var claim = await _client.ClaimAsync(Story.Deserted, [.. evidence]);

        var body = await _client.SetStatusAsync(claim, "confirmed", "  Two Ukrainian outlets and a second witness.  ");

        Assert.Equal("confirmed", body.Str("status"));
        Assert.Equal("Two Ukrainian outlets and a second witness.", body.Str("note"));
        var status = await StatusAsync(claim);
        Assert.Equal("confirmed", status.Str("status"));
        Assert.Equal("Two Ukrainian outlets and a second witness.", status.Str("note"));
        AssertCounts(status, asserts: 1, supports: 2, refutes: 3, unableToVerify: 4, mentions: 5);
        var origins = status.GetProperty("independentOrigins");
        Assert.Equal([1, 1, 1, 1, 1], new[] { "asserts", "supports", "refutes", "unableToVerify", "mentions" }.Select(n => origins.GetProperty(n).GetInt32()));
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
        var claim = await _client.ClaimAsync(Story.Deserted, Story.Evidence(hromadske, "asserts", "18 soldiers deserted"));

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
        var claim = await _client.ClaimAsync(Story.Deserted);

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
        var claim = await _client.ClaimAsync(Story.Training);
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
        var claim = await _client.ClaimAsync(Story.Training);
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

    [Fact]
    public async Task TheStatusRulesSayInWordsWhatThePutEnforces()
    {
        var rules = (await (await _client.GetAsync("/claims/status-rules")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("rules").EnumerateArray().ToList();

        Assert.Equal(["unverified", "in_review", "confirmed", "disputed", "false", "inconclusive"], rules.Select(r => r.Str("status")));
        Assert.Equal([false, false, true, true, true, true], rules.Select(r => r.GetProperty("needsNote").GetBoolean()));
        Assert.Equal([null, null, "supports", null, "refutes", null], rules.Select(r => r.GetProperty("needsEvidence").GetString()));
        Assert.Contains("'supports'", rules[2].Str("rule"), StringComparison.Ordinal);
        Assert.Equal([false, false, true, false, true, false], rules.Select(r => r.GetProperty("needsIndependentOrigin").GetBoolean()));
        Assert.Contains("independent of the claim's asserters", rules[2].Str("rule"), StringComparison.Ordinal);

        // Each rule that names a stance is the one a PUT without that stance is refused by.
        var claim = await _client.ClaimAsync(Story.Training);
        foreach (var rule in rules.Where(r => r.GetProperty("needsEvidence").ValueKind == JsonValueKind.String))
        {
            var problem = await _client.SetStatusAsync(claim, rule.Str("status"), "a note", HttpStatusCode.Conflict);
            Assert.Contains($"'{rule.Str("needsEvidence")}'", problem.Str("detail"), StringComparison.Ordinal);
        }

        foreach (var rule in rules.Where(r => r.GetProperty("needsNote").GetBoolean()))
        {
            var problem = await _client.SetStatusAsync(claim, rule.Str("status"), null, HttpStatusCode.BadRequest);
            Assert.NotEmpty(problem.Errors("note"));
        }

        Assert.Equal("unverified", (await StatusAsync(claim)).Str("status"));
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
        var claim = await _client.ClaimAsync(Story.Deserted);
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
        var claim = await _client.ClaimAsync(Story.Deserted);
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
        var claim = await _client.ClaimAsync(Story.Training);

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
        var claim = await _client.ClaimAsync(Story.Training);
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

    // ---- GET /claims/{id}/status: ETag ----

    [Fact]
    public async Task StatusCarriesAnETagAndCacheControlNoCache()
    {
        var claim = await _client.ClaimAsync(Story.Bennett);

        var response = await _client.GetAsync($"/claims/{claim}/status");

        var body = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(claim, body.GetProperty("claimId").GetGuid());
        Assert.NotNull(response.Headers.ETag);
        Assert.StartsWith("\"", response.Headers.ETag.Tag, StringComparison.Ordinal);
        Assert.True(response.Headers.CacheControl?.NoCache, $"Cache-Control: {response.Headers.CacheControl}");
    }

    [Fact]
    public async Task IfNoneMatchWithTheCurrentTagIs304WithAnEmptyBody()
    {
        var claim = await _client.ClaimAsync(Story.Bennett);
        var tag = await ETagAsync(claim);

        var response = await GetStatusAsync(claim, tag.ToString());

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(tag, response.Headers.ETag);
        Assert.True(response.Headers.CacheControl?.NoCache, $"Cache-Control: {response.Headers.CacheControl}");
    }

    [Theory]
    [InlineData("*")]
    [InlineData("\"0000\", {0}")]
    [InlineData("W/{0}")]
    public async Task IfNoneMatchListingTheCurrentTagIs304(string header)
    {
        var claim = await _client.ClaimAsync(Story.Bennett);
        var tag = await ETagAsync(claim);

        var response = await GetStatusAsync(claim, string.Format(System.Globalization.CultureInfo.InvariantCulture, header, tag.Tag));

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task IfNoneMatchWithAnotherTagAnswersTheStatus()
    {
        var claim = await _client.ClaimAsync(Story.Bennett);

        var response = await GetStatusAsync(claim, "\"not-the-tag\"");

        var body = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("unverified", body.Str("status"));
        Assert.NotNull(response.Headers.ETag);
    }

    [Fact]
    public async Task EditingTheStatementKeepsTheETag()
    {
        var claim = await _client.ClaimAsync(Story.Bennett);
        var before = await ETagAsync(claim);

        var edited = await _client.PutAsJsonAsync($"/claims/{claim}", new
        {
            statement = "North Korean soldiers are training in eastern Russia.",
            summary = "Lloyd Austin: there is evidence.",
            language = "en",
            tags = new[] { "north-korea", "russia", "training" },
            firstReportedOn = "2024-10-23",
        });
        Assert.Equal(2, (await edited.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("version").GetInt32());

        Assert.Equal(before, await ETagAsync(claim));
        Assert.Equal(HttpStatusCode.NotModified, (await GetStatusAsync(claim, before.ToString())).StatusCode);
    }

    [Fact]
    public async Task AddingEvidenceChangesTheETag()
    {
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var claim = await _client.ClaimAsync(Story.Deserted);
        var before = await ETagAsync(claim);

        var added = await _client.PostAsJsonAsync($"/claims/{claim}/evidence", Story.Evidence(suspilne, "asserts", "18 soldiers deserted"));
        await added.ReadJsonAsync(HttpStatusCode.Created);

        var response = await GetStatusAsync(claim, before.ToString());
        var body = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(1, body.GetProperty("evidenceCounts").GetProperty("asserts").GetInt32());
        Assert.NotNull(response.Headers.ETag);
        Assert.NotEqual(before, response.Headers.ETag);
    }

    [Fact]
    public async Task RemovingEvidenceChangesTheETag()
    {
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var claim = await _client.ClaimAsync(Story.Deserted, Story.Evidence(hromadske, "asserts", "18 soldiers deserted"), Story.Evidence(hromadske, "mentions"));
        var evidence = (await (await _client.GetAsync($"/claims/{claim}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("evidence")[1].Id();
        var before = await ETagAsync(claim);

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/claims/{claim}/evidence/{evidence}")).StatusCode);

        var after = await ETagAsync(claim);
        Assert.NotEqual(before, after);
        Assert.Equal(HttpStatusCode.OK, (await GetStatusAsync(claim, before.ToString())).StatusCode);
    }

    [Fact]
    public async Task ChangingTheStatusChangesTheETag()
    {
        var claim = await _client.ClaimAsync(Story.Bennett);
        var unverified = await ETagAsync(claim);

        await _client.SetStatusAsync(claim, "in_review", null);
        var inReview = await ETagAsync(claim);
        await _client.SetStatusAsync(claim, "inconclusive", "Business Insider could not verify it either way.");
        var inconclusive = await ETagAsync(claim);

        Assert.Equal(3, new[] { unverified, inReview, inconclusive }.Distinct().Count());
        var response = await GetStatusAsync(claim, inReview.ToString());
        Assert.Equal("inconclusive", (await response.ReadJsonAsync(HttpStatusCode.OK)).Str("status"));
        Assert.Equal(inconclusive, response.Headers.ETag);
    }

    [Fact]
    public async Task ChangingOnlyTheNoteChangesTheETag()
    {
        var claim = await _client.ClaimAsync(Story.Bennett);
        await _client.SetStatusAsync(claim, "disputed", "Suspilne and Hromadske report it.");
        var first = await ETagAsync(claim);
        await _client.SetStatusAsync(claim, "in_review", "New reports came in.");
        var between = await ETagAsync(claim);
        await _client.SetStatusAsync(claim, "disputed", "Business Insider could not verify it.");
        var second = await ETagAsync(claim);

        // Same status as before, another note: the answer differs, so the tag must too.
        Assert.NotEqual(first, second);
        Assert.NotEqual(between, second);
        Assert.Equal("Business Insider could not verify it.", (await (await GetStatusAsync(claim, first.ToString())).ReadJsonAsync(HttpStatusCode.OK)).Str("note"));
    }

    [Fact]
    public async Task ASecondPollWithoutChangesIs304Again()
    {
        var claim = await _client.ClaimAsync(Story.Bennett);
        var tag = await ETagAsync(claim);

        var first = await GetStatusAsync(claim, tag.ToString());
        var second = await GetStatusAsync(claim, tag.ToString());

        Assert.Equal(HttpStatusCode.NotModified, first.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Equal(tag, await ETagAsync(claim));
    }

    // ---- POST /claims/statuses ----

    [Fact]
    public async Task BatchStatusesAnswersKnownClaimsInTheOrderAskedAndListsUnknownIds()
    {
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var first = await _client.ClaimAsync(Story.Deserted, Story.Evidence(suspilne, "supports", "18 soldiers deserted"), Story.Evidence(suspilne, "mentions"));
        var second = await _client.ClaimAsync(Story.Bennett);
        await _client.SetStatusAsync(first, "confirmed", "Two Ukrainian outlets.");
        var unknown = Guid.CreateVersion7();

        var response = await _client.PostAsJsonAsync("/claims/statuses", new { ids = new[] { second, unknown, first } });

        var body = await response.ReadJsonAsync(HttpStatusCode.OK);
        var items = body.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([second, first], items.Select(i => i.GetProperty("claimId").GetGuid()));
        Assert.Equal("unverified", items[0].Str("status"));
        Assert.Equal("confirmed", items[1].Str("status"));
        Assert.Equal("Two Ukrainian outlets.", items[1].Str("note"));
        var counts = items[1].GetProperty("evidenceCounts");
        Assert.Equal(1, counts.GetProperty("supports").GetInt32());
        Assert.Equal(1, counts.GetProperty("mentions").GetInt32());
        Assert.Equal(0, counts.GetProperty("refutes").GetInt32());
        Assert.Equal([unknown], body.GetProperty("unknownIds").EnumerateArray().Select(i => i.GetGuid()));
    }

    [Fact]
    public async Task BatchStatusesMatchTheSingleStatus()
    {
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var claim = await _client.ClaimAsync(Story.Deserted, Story.Evidence(hromadske, "asserts"));
        await _client.SetStatusAsync(claim, "in_review", "Seeking a second source.");

        var single = await (await _client.GetAsync($"/claims/{claim}/status")).ReadJsonAsync(HttpStatusCode.OK);
        var batch = await (await _client.PostAsJsonAsync("/claims/statuses", new { ids = new[] { claim } })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(single.ToString(), batch.GetProperty("items")[0].ToString());
        Assert.Equal(0, batch.GetProperty("unknownIds").GetArrayLength());
    }

    [Fact]
    public async Task FiveHundredIdsAreAccepted()
    {
        var claim = await _client.ClaimAsync(Story.Bennett);
        var ids = Enumerable.Range(0, 499).Select(_ => Guid.CreateVersion7()).Prepend(claim).ToArray();

        var body = await (await _client.PostAsJsonAsync("/claims/statuses", new { ids })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(claim, Assert.Single(body.GetProperty("items").EnumerateArray()).GetProperty("claimId").GetGuid());
        Assert.Equal(499, body.GetProperty("unknownIds").GetArrayLength());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(501)]
    public async Task ZeroOrMoreThanFiveHundredIdsAre400(int count)
    {
        var ids = Enumerable.Range(0, count).Select(_ => Guid.CreateVersion7()).ToArray();

        var problem = await (await _client.PostAsJsonAsync("/claims/statuses", new { ids })).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors("ids"), m => m.Contains("500", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{}", "ids")]
    [InlineData("""{"ids":null}""", "ids")]
    [InlineData("""{"ids":["not-a-uuid"]}""", "ids[0]")]
    [InlineData("""{"ids":"0192b8a0-5000-7000-8000-000000000001"}""", "ids")]
    public async Task AMalformedBatchIs400NamingIds(string json, string field)
    {
        var problem = await (await _client.PostRawAsync("/claims/statuses", json)).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.NotEmpty(problem.Errors(field));
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

    private async Task<HttpResponseMessage> GetStatusAsync(Guid claim, string? ifNoneMatch = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/claims/{claim}/status");
        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        return await _client.SendAsync(request);
    }

    private async Task<EntityTagHeaderValue> ETagAsync(Guid claim)
    {
        var response = await GetStatusAsync(claim);
        await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.NotNull(response.Headers.ETag);
        return response.Headers.ETag;
    }
}
