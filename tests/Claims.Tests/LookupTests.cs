using System.Net.Http.Headers;
using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// The look-ups around claims: finding sources, a source's claims, near-duplicate statements, the
/// cacheable status of one claim, the statuses of many, and the dashboard counts.
/// </summary>
public sealed class LookupTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const string Training = "North Korean soldiers are training in Russia.";
    private const string Troops = "North Korean troops are in Russia.";
    private const string Deserted = "North Korean soldiers sent to Russia have deserted.";
    private const string Bennett = "Bruce W. Bennett says the families stay behind in Pyongyang.";
    private const string Hostages = "North Korea keeps soldiers' families in Pyongyang as hostages.";

    private static readonly string[] AllStatuses = ["unverified", "in_review", "confirmed", "disputed", "false", "inconclusive"];

    private readonly HttpClient _client = api.CreateClient();

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
        var bennett = await _client.SourceAsync("Bruce W. Bennett", "person", "B");

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
        var bennett = await _client.SourceAsync("Bruce W. Bennett", "person", "B");
        var insider = await _client.SourceAsync("Business Insider", "outlet", "B");

        var items = await AllSourcesAsync("q=bennet");

        Assert.Contains(bennett, items.Select(s => s.Id()));
        Assert.DoesNotContain(insider, items.Select(s => s.Id()));
        Assert.All(items, s => Assert.Contains("Bennett", s.Str("name"), StringComparison.Ordinal));
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
        var deserted = await _client.ClaimAsync(Deserted, Story.Evidence(suspilne, "asserts", "18 soldiers deserted", credibility: 3));
        var bennett = await _client.ClaimAsync(Bennett, Story.Evidence(hromadske, "supports"));
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
        Assert.Equal(Bennett, items[0].GetProperty("claim").Str("statement"));
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
        var claim = await _client.ClaimAsync(Deserted,
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
        var bennett = await _client.SourceAsync("Bruce W. Bennett", "person", "B");
        var claims = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            claims.Add(await _client.ClaimAsync($"{Hostages} Report {i}.", Story.Evidence(bennett, "asserts", "remain in Pyongyang as a hostage")));
        }

        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var url = $"/sources/{bennett}/claims?limit=2" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            var page = await (await _client.GetAsync(url)).ReadJsonAsync(HttpStatusCode.OK);
            Assert.True(page.GetProperty("items").GetArrayLength() <= 2);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("claim").Id()));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

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
        await _client.ClaimAsync(Deserted, Story.Evidence(suspilne, "asserts"), Story.Evidence(hromadske, "asserts"));
        await _client.ClaimAsync(Bennett, Story.Evidence(suspilne, "mentions"), Story.Evidence(hromadske, "mentions"));
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

    // ---- GET /claims/similar ----

    [Fact]
    public async Task SimilarFindsTheNearDuplicateFirstThenCloseStatementsWithScoresBetweenZeroAndOne()
    {
        var training = await _client.ClaimAsync(Training);
        var troops = await _client.ClaimAsync(Troops);
        var unrelated = await _client.ClaimAsync("Lloyd Austin: there is evidence.");

        var items = await SimilarAsync("text=North%20Korean%20soldiers%20are%20training%20in%20Russia&limit=50");

        var ids = items.Select(i => i.GetProperty("claim").Id()).ToList();
        Assert.Equal(Training, items[0].GetProperty("claim").Str("statement"));
        Assert.Contains(training, ids);
        Assert.Contains(troops, ids);
        Assert.DoesNotContain(unrelated, ids);
        Assert.True(ids.IndexOf(training) < ids.IndexOf(troops));
        var scores = items.Select(i => i.GetProperty("score").GetDouble()).ToList();
        Assert.All(scores, s => Assert.InRange(s, 0.3, 1.0));
        Assert.Equal(scores.OrderDescending(), scores);
        Assert.True(scores[ids.IndexOf(training)] > scores[ids.IndexOf(troops)]);
    }

    [Fact]
    public async Task AnIdenticalStatementScoresOne()
    {
        var claim = await _client.ClaimAsync(Hostages);

        var items = await SimilarAsync($"text={Uri.EscapeDataString(Hostages)}");

        var match = Assert.Single(items, i => i.GetProperty("claim").Id() == claim);
        Assert.Equal(1.0, match.GetProperty("score").GetDouble());
    }

    [Fact]
    public async Task MinScoreLeavesOutLessSimilarStatements()
    {
        var training = await _client.ClaimAsync(Training);
        var troops = await _client.ClaimAsync(Troops);

        var strict = await SimilarAsync("text=North%20Korean%20soldiers%20are%20training%20in%20Russia&minScore=0.9&limit=50");
        var loose = await SimilarAsync("text=North%20Korean%20soldiers%20are%20training%20in%20Russia&minScore=0.5&limit=50");

        var strictIds = strict.Select(i => i.GetProperty("claim").Id()).ToList();
        Assert.Contains(training, strictIds);
        Assert.DoesNotContain(troops, strictIds);
        Assert.All(strict, i => Assert.True(i.GetProperty("score").GetDouble() >= 0.9));
        Assert.Contains(troops, loose.Select(i => i.GetProperty("claim").Id()));
        Assert.All(loose, i => Assert.True(i.GetProperty("score").GetDouble() >= 0.5));
    }

    [Fact]
    public async Task SimilarReturnsAtMostLimitClaims()
    {
        await _client.ClaimAsync(Training);
        await _client.ClaimAsync(Troops);
        await _client.ClaimAsync(Deserted);

        var one = await SimilarAsync("text=North%20Korean%20soldiers%20are%20training%20in%20Russia&limit=1&minScore=0.3");
        var two = await SimilarAsync("text=North%20Korean%20soldiers%20are%20training%20in%20Russia&limit=2&minScore=0.3");

        Assert.Single(one);
        Assert.Equal(2, two.Count);
        Assert.Equal(Training, one[0].GetProperty("claim").Str("statement"));
    }

    [Fact]
    public async Task SimilarWithNothingCloseIsAnEmptyList()
    {
        await _client.ClaimAsync(Training);

        var items = await SimilarAsync("text=Pyongyang%20hostages%20families&minScore=0.8");

        Assert.Empty(items);
    }

    [Theory]
    [InlineData("", "text")]
    [InlineData("text=", "text")]
    [InlineData("text=%20%20%20", "text")]
    [InlineData("text=Russia&limit=0", "limit")]
    [InlineData("text=Russia&limit=51", "limit")]
    [InlineData("text=Russia&limit=ten", "limit")]
    [InlineData("text=Russia&minScore=0", "minScore")]
    [InlineData("text=Russia&minScore=0.05", "minScore")]
    [InlineData("text=Russia&minScore=1.5", "minScore")]
    [InlineData("text=Russia&minScore=-1", "minScore")]
    [InlineData("text=Russia&minScore=high", "minScore")]
    public async Task ABadSimilarParameterIs400NamingIt(string query, string parameter)
    {
        var problem = await (await _client.GetAsync($"/claims/similar?{query}")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.NotEmpty(problem.Errors(parameter));
    }

    [Fact]
    public async Task TooLongSimilarTextIs400()
    {
        var problem = await (await _client.GetAsync($"/claims/similar?text={new string('a', 2001)}")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors("text"), m => m.Contains("2000", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SimilarBoundsAreAccepted()
    {
        await _client.ClaimAsync(Training);

        var low = await SimilarAsync($"text={Uri.EscapeDataString(Training)}&limit=50&minScore=0.1");
        var high = await SimilarAsync($"text={Uri.EscapeDataString(Training)}&limit=1&minScore=1");

        Assert.NotEmpty(low);
        Assert.Equal(Training, Assert.Single(high).GetProperty("claim").Str("statement"));
    }

    // ---- GET /claims/{id}/status: ETag ----

    [Fact]
    public async Task StatusCarriesAnETagAndCacheControlNoCache()
    {
        var claim = await _client.ClaimAsync(Bennett);

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
        var claim = await _client.ClaimAsync(Bennett);
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
        var claim = await _client.ClaimAsync(Bennett);
        var tag = await ETagAsync(claim);

        var response = await GetStatusAsync(claim, string.Format(System.Globalization.CultureInfo.InvariantCulture, header, tag.Tag));

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task IfNoneMatchWithAnotherTagAnswersTheStatus()
    {
        var claim = await _client.ClaimAsync(Bennett);

        var response = await GetStatusAsync(claim, "\"not-the-tag\"");

        var body = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("unverified", body.Str("status"));
        Assert.NotNull(response.Headers.ETag);
    }

    [Fact]
    public async Task EditingTheStatementKeepsTheETag()
    {
        var claim = await _client.ClaimAsync(Bennett);
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
        var claim = await _client.ClaimAsync(Deserted);
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
        var claim = await _client.ClaimAsync(Deserted, Story.Evidence(hromadske, "asserts", "18 soldiers deserted"), Story.Evidence(hromadske, "mentions"));
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
        var claim = await _client.ClaimAsync(Bennett);
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
        var claim = await _client.ClaimAsync(Bennett);
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
        var claim = await _client.ClaimAsync(Bennett);
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
        var first = await _client.ClaimAsync(Deserted, Story.Evidence(suspilne, "supports", "18 soldiers deserted"), Story.Evidence(suspilne, "mentions"));
        var second = await _client.ClaimAsync(Bennett);
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
        var claim = await _client.ClaimAsync(Deserted, Story.Evidence(hromadske, "asserts"));
        await _client.SetStatusAsync(claim, "in_review", "Seeking a second source.");

        var single = await (await _client.GetAsync($"/claims/{claim}/status")).ReadJsonAsync(HttpStatusCode.OK);
        var batch = await (await _client.PostAsJsonAsync("/claims/statuses", new { ids = new[] { claim } })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(single.ToString(), batch.GetProperty("items")[0].ToString());
        Assert.Equal(0, batch.GetProperty("unknownIds").GetArrayLength());
    }

    [Fact]
    public async Task FiveHundredIdsAreAccepted()
    {
        var claim = await _client.ClaimAsync(Bennett);
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

    // ---- GET /stats ----

    [Fact]
    public async Task StatsCountClaimsPerStatusAndAllClaimsSourcesAndEvidence()
    {
        var before = await StatsAsync();
        Assert.Equal(AllStatuses.Order(), before.GetProperty("claimsByStatus").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(
            before.GetProperty("claimsByStatus").EnumerateObject().Sum(p => p.Value.GetInt64()),
            before.GetProperty("claims").GetInt64());

        // 3 sources, 7 claims (2 unverified, 2 in review, 1 confirmed, 1 false, 1 disputed), 5 evidence items.
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var agency = await _client.SourceAsync("Ukraine's defense agency", "government", "C");
        var austin = await _client.SourceAsync();
        await _client.ClaimAsync(Bennett, Story.Evidence(austin, "asserts"));
        await _client.ClaimAsync(Hostages);
        var review1 = await _client.ClaimAsync(Troops);
        var review2 = await _client.ClaimAsync(Deserted, Story.Evidence(suspilne, "asserts"));
        var confirmed = await _client.ClaimAsync(Deserted, Story.Evidence(suspilne, "supports"));
        var falseClaim = await _client.ClaimAsync(Deserted, Story.Evidence(agency, "refutes"), Story.Evidence(suspilne, "asserts"));
        var disputed = await _client.ClaimAsync(Bennett);
        await _client.SetStatusAsync(review1, "in_review", null);
        await _client.SetStatusAsync(review2, "in_review", null);
        await _client.SetStatusAsync(confirmed, "confirmed", "Suspilne has footage.");
        await _client.SetStatusAsync(falseClaim, "false", "The agency denies it.");
        await _client.SetStatusAsync(disputed, "disputed", "Lloyd Austin and Business Insider disagree.");

        var after = await StatsAsync();

        var expected = new Dictionary<string, long>
        {
            ["unverified"] = 2, ["in_review"] = 2, ["confirmed"] = 1, ["disputed"] = 1, ["false"] = 1, ["inconclusive"] = 0,
        };
        foreach (var status in AllStatuses)
        {
            Assert.True(
                expected[status] == Count(after, status) - Count(before, status),
                $"{status}: expected {expected[status]} more, before {before}, after {after}");
        }

        Assert.Equal(7, after.GetProperty("claims").GetInt64() - before.GetProperty("claims").GetInt64());
        Assert.Equal(3, after.GetProperty("sources").GetInt64() - before.GetProperty("sources").GetInt64());
        Assert.Equal(5, after.GetProperty("evidence").GetInt64() - before.GetProperty("evidence").GetInt64());
        Assert.Equal(
            after.GetProperty("claimsByStatus").EnumerateObject().Sum(p => p.Value.GetInt64()),
            after.GetProperty("claims").GetInt64());
    }

    [Fact]
    public async Task StatsAgreeWithTheDatabase()
    {
        var source = await _client.SourceAsync("Hromadske", "outlet", "C");
        await _client.ClaimAsync(Deserted, Story.Evidence(source, "asserts"));

        var stats = await StatsAsync();

        await using var connection = new Npgsql.NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        foreach (var status in AllStatuses)
        {
            await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM claims WHERE status = @status", connection);
            count.Parameters.AddWithValue("status", status);
            Assert.Equal((long)(await count.ExecuteScalarAsync())!, Count(stats, status));
        }

        foreach (var (table, property) in new[] { ("claims", "claims"), ("sources", "sources"), ("evidence", "evidence") })
        {
            await using var count = new Npgsql.NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
            Assert.Equal((long)(await count.ExecuteScalarAsync())!, stats.GetProperty(property).GetInt64());
        }
    }

    // ---- helpers ----

    private async Task<List<JsonElement>> AllSourcesAsync(string query, int limit = 200)
    {
        var items = new List<JsonElement>();
        string? cursor = null;
        for (var pages = 0; ; pages++)
        {
            Assert.True(pages < 1000, "Paging did not end.");
            var url = $"/sources?{query}&limit={limit}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            var page = await (await _client.GetAsync(url)).ReadJsonAsync(HttpStatusCode.OK);
            var batch = page.GetProperty("items").EnumerateArray().ToList();
            Assert.True(batch.Count <= limit);
            items.AddRange(batch);
            cursor = page.GetProperty("nextCursor").GetString();
            if (cursor is null)
            {
                break;
            }
        }

        Assert.Equal(items.Count, items.Select(s => s.Id()).Distinct().Count());
        return items;
    }

    private async Task<JsonElement> SourceAsync(Guid id) =>
        await (await _client.GetAsync($"/sources/{id}")).ReadJsonAsync(HttpStatusCode.OK);

    private async Task<List<JsonElement>> SimilarAsync(string query)
    {
        var page = await (await _client.GetAsync($"/claims/similar?{query}")).ReadJsonAsync(HttpStatusCode.OK);
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

    private async Task<JsonElement> StatsAsync() =>
        await (await _client.GetAsync("/stats")).ReadJsonAsync(HttpStatusCode.OK);

    private static long Count(JsonElement stats, string status) =>
        stats.GetProperty("claimsByStatus").GetProperty(status).GetInt64();
}
