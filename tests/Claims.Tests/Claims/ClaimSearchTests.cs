using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// GET /claims: every filter alone and combined, full-text search in English, Ukrainian, Russian and
/// Korean, the sort orders, and a 400 problem naming the parameter for every bad value. Tests of one
/// class share a database, so each test tags its claims with a tag of its own and filters by it.
/// </summary>
public sealed class ClaimSearchTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    // ---- status and tag ----

    [Fact]
    public async Task StatusAloneReturnsOnlyClaimsWithThatStatus()
    {
        var tag = NewTag();
        var reviewed = await CreateAsync(Story.Training, tag);
        var untouched = await CreateAsync(Story.Deserted, tag);
        await _client.SetStatusAsync(reviewed, "in_review", "Seeking a second source.");

        var items = await AllAsync("status=in_review");

        Assert.NotEmpty(items);
        Assert.All(items, c => Assert.Equal("in_review", c.Str("status")));
        Assert.Contains(reviewed, Ids(items));
        Assert.DoesNotContain(untouched, Ids(items));
    }

    [Fact]
    public async Task RepeatedStatusMatchesClaimsWithAnyOfThem()
    {
        var tag = NewTag();
        var reviewed = await CreateAsync(Story.Training, tag);
        var disputed = await CreateAsync(Story.Deserted, tag);
        var untouched = await CreateAsync(Story.Desertions, tag);
        await _client.SetStatusAsync(reviewed, "in_review", null);
        await _client.SetStatusAsync(disputed, "disputed", "Suspilne and Hromadske report it; Business Insider could not verify.");

        var items = await AllAsync($"tag={tag}&status=in_review&status=disputed");

        Assert.Equal(new[] { disputed, reviewed }.Order(), Ids(items).Order());
        Assert.DoesNotContain(untouched, Ids(items));
        Assert.Equal(["disputed", "in_review"], items.Select(c => c.Str("status")).Order());
    }

    [Fact]
    public async Task TagAloneReturnsOnlyClaimsWithThatTag()
    {
        var tag = NewTag();
        var tagged = await CreateAsync(Story.Training, tag);
        var other = await CreateAsync(Story.Training, NewTag());

        var items = await AllAsync($"tag={tag}");

        Assert.Equal([tagged], Ids(items));
        Assert.Contains(tag, items[0].GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.DoesNotContain(other, Ids(items));
    }

    [Fact]
    public async Task RepeatedTagMatchesOnlyClaimsWithAllOfThem()
    {
        var (a, b) = (NewTag(), NewTag());
        var both = await CreateAsync(Story.Training, a, moreTags: [b]);
        var onlyA = await CreateAsync(Story.Training, a);
        var onlyB = await CreateAsync(Story.Training, b);

        var all = await AllAsync($"tag={a}&tag={b}");
        var justA = await AllAsync($"tag={a}");

        Assert.Equal([both], Ids(all));
        Assert.DoesNotContain(onlyB, Ids(all));
        Assert.Equal(new[] { both, onlyA }.Order(), Ids(justA).Order());
    }

    [Fact]
    public async Task TagFilterIsCaseInsensitiveLikeStoredTags()
    {
        var tag = NewTag();
        var claim = await CreateAsync(Story.Training, tag);

        var items = await AllAsync($"tag={tag.ToUpperInvariant()}");

        Assert.Equal([claim], Ids(items));
    }

    [Fact]
    public async Task StatusAndTagCombine()
    {
        var tag = NewTag();
        var match = await CreateAsync(Story.Training, tag);
        var wrongStatus = await CreateAsync(Story.Deserted, tag);
        var wrongTag = await CreateAsync(Story.Training, NewTag());
        await _client.SetStatusAsync(match, "in_review", null);
        await _client.SetStatusAsync(wrongTag, "in_review", null);

        var items = await AllAsync($"status=in_review&tag={tag}");

        Assert.Equal([match], Ids(items));
        Assert.DoesNotContain(wrongStatus, Ids(items));
        Assert.Equal("in_review", items[0].Str("status"));
    }

    // ---- language ----

    [Fact]
    public async Task LanguageAloneReturnsOnlyClaimsInThatLanguage()
    {
        var tag = NewTag();
        var ukrainian = await CreateAsync(Story.UkrainianDesertion, tag, language: "uk");
        var english = await CreateAsync(Story.Deserted, tag);

        var items = await AllAsync("language=uk");
        var upper = await AllAsync("language=UK");

        Assert.All(items, c => Assert.Equal("uk", c.Str("language")));
        Assert.Contains(ukrainian, Ids(items));
        Assert.DoesNotContain(english, Ids(items));
        Assert.Equal(Ids(items), Ids(upper));
    }

    // ---- sourceId and stance ----

    [Fact]
    public async Task SourceIdAloneReturnsTheClaimsWithEvidenceFromThatSource()
    {
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var hromadske = await _client.SourceAsync("Hromadske", "outlet", "C");
        var tag = NewTag();
        var asserted = await CreateAsync(Story.Deserted, tag, evidence: [Story.Evidence(suspilne, "asserts", "18 soldiers deserted")]);
        var refuted = await CreateAsync(Story.Desertions, tag, evidence: [Story.Evidence(suspilne, "refutes", "no desertions"), Story.Evidence(hromadske, "asserts")]);
        var otherSource = await CreateAsync(Story.Training, tag, evidence: [Story.Evidence(hromadske, "supports")]);

        var items = await AllAsync($"sourceId={suspilne}");

        Assert.Equal(new[] { asserted, refuted }.Order(), Ids(items).Order());
        Assert.DoesNotContain(otherSource, Ids(items));
    }

    [Fact]
    public async Task SourceIdWithStanceReturnsOnlyClaimsWhereThatSourceTookThatStance()
    {
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        var austin = await _client.SourceAsync();
        var tag = NewTag();
        var asserted = await CreateAsync(Story.Deserted, tag, evidence: [Story.Evidence(suspilne, "asserts", "18 soldiers deserted")]);
        var refuted = await CreateAsync(Story.Desertions, tag, evidence: [Story.Evidence(suspilne, "refutes", "no desertions"), Story.Evidence(austin, "asserts")]);
        // The stance of another source's evidence on the same claim does not count.
        var refutedByAnother = await CreateAsync(Story.Training, tag, evidence: [Story.Evidence(suspilne, "mentions"), Story.Evidence(austin, "refutes")]);

        var refutes = await AllAsync($"sourceId={suspilne}&stance=refutes");
        var asserts = await AllAsync($"sourceId={suspilne}&stance=asserts");
        var supports = await AllAsync($"sourceId={suspilne}&stance=supports");

        Assert.Equal([refuted], Ids(refutes));
        Assert.DoesNotContain(refutedByAnother, Ids(refutes));
        Assert.Equal([asserted], Ids(asserts));
        Assert.Empty(supports);
    }

    // ---- dates ----

    [Fact]
    public async Task ReportedFromAndReportedToAreInclusiveAndLeaveOutUnknownDates()
    {
        var tag = NewTag();
        var first = await CreateAsync(Story.Training, tag, firstReportedOn: "2024-10-01");
        var middle = await CreateAsync(Story.Training, tag, firstReportedOn: "2024-10-15");
        var last = await CreateAsync(Story.Training, tag, firstReportedOn: "2024-10-31");
        var unknown = await CreateAsync(Story.Training, tag, firstReportedOn: null);

        var between = await AllAsync($"tag={tag}&reportedFrom=2024-10-15&reportedTo=2024-10-31");
        var from = await AllAsync($"tag={tag}&reportedFrom=2024-10-15");
        var to = await AllAsync($"tag={tag}&reportedTo=2024-10-15");
        var oneDay = await AllAsync($"tag={tag}&reportedFrom=2024-10-15&reportedTo=2024-10-15");

        Assert.Equal(new[] { middle, last }.Order(), Ids(between).Order());
        Assert.Equal(new[] { middle, last }.Order(), Ids(from).Order());
        Assert.Equal(new[] { first, middle }.Order(), Ids(to).Order());
        Assert.Equal([middle], Ids(oneDay));
        Assert.DoesNotContain(unknown, Ids(from).Concat(Ids(to)));
    }

    [Fact]
    public async Task ReportedFromAloneReturnsOnlyClaimsFirstReportedOnOrAfterThatDay()
    {
        var tag = NewTag();
        var early = await CreateAsync(Story.Training, tag, firstReportedOn: "2024-10-01");
        var late = await CreateAsync(Story.Training, tag, firstReportedOn: "2024-10-23");

        var items = await AllAsync("reportedFrom=2024-10-20");

        Assert.All(items, c => Assert.True(DateOnly.Parse(c.Str("firstReportedOn")) >= new DateOnly(2024, 10, 20), c.ToString()));
        Assert.Contains(late, Ids(items));
        Assert.DoesNotContain(early, Ids(items));
    }

    [Fact]
    public async Task UpdatedSinceReturnsClaimsChangedAtOrAfterThatMoment()
    {
        var tag = NewTag();
        var older = await CreateAsync(Story.Training, tag);
        var newer = await CreateAsync(Story.Deserted, tag);
        var since = (await ClaimAsync(newer)).Str("updatedAt");

        var alone = await AllAsync($"updatedSince={Uri.EscapeDataString(since)}");
        var tagged = await AllAsync($"tag={tag}&updatedSince={Uri.EscapeDataString(since)}");

        Assert.All(alone, c => Assert.True(c.GetProperty("updatedAt").GetDateTimeOffset() >= DateTimeOffset.Parse(since), c.ToString()));
        Assert.Contains(newer, Ids(alone));
        Assert.DoesNotContain(older, Ids(alone));
        Assert.Equal([newer], Ids(tagged));

        // Editing the older claim moves it into the window, first in the default order.
        await (await _client.PutAsJsonAsync($"/claims/{older}", new { statement = Story.Training + " Lloyd Austin: there is evidence.", tags = new[] { tag } }))
            .ReadJsonAsync(HttpStatusCode.OK);
        var after = await AllAsync($"tag={tag}&updatedSince={Uri.EscapeDataString(since)}");

        Assert.Equal([older, newer], Ids(after));
    }

    [Fact]
    public async Task UpdatedSinceTakesAnOffsetOtherThanUtc()
    {
        var tag = NewTag();
        var claim = await CreateAsync(Story.Training, tag);
        var updated = (await ClaimAsync(claim)).GetProperty("updatedAt").GetDateTimeOffset();
        var kyiv = updated.ToOffset(TimeSpan.FromHours(2)).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", System.Globalization.CultureInfo.InvariantCulture);
        var later = updated.AddSeconds(1).ToOffset(TimeSpan.FromHours(2)).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal([claim], Ids(await AllAsync($"tag={tag}&updatedSince={Uri.EscapeDataString(kyiv)}")));
        Assert.Empty(await AllAsync($"tag={tag}&updatedSince={Uri.EscapeDataString(later)}"));
    }

    // ---- q: full-text search ----

    [Fact]
    public async Task EnglishQueryMatchesOtherWordForms()
    {
        var tag = NewTag();
        var deserted = await CreateAsync(Story.Deserted, tag);
        var desertions = await CreateAsync(Story.Desertions, tag);
        var training = await CreateAsync(Story.Training, tag);

        var items = await AllAsync($"tag={tag}&q=desertion");
        var plural = await AllAsync($"tag={tag}&q=desertions");

        Assert.Equal(new[] { deserted, desertions }.Order(), Ids(items).Order());
        Assert.DoesNotContain(training, Ids(items));
        Assert.Equal(new[] { deserted, desertions }.Order(), Ids(plural).Order());
    }

    [Fact]
    public async Task QSearchesTheSummaryToo()
    {
        var tag = NewTag();
        var claim = await CreateAsync(Story.Training, tag, summary: "Lloyd Austin said there is evidence of it.");
        var other = await CreateAsync(Story.Training, tag);

        var items = await AllAsync($"tag={tag}&q=evidence");

        Assert.Equal([claim], Ids(items));
        Assert.DoesNotContain(other, Ids(items));
    }

    [Theory]
    [InlineData("дезертирували")]
    [InlineData("Дезертирували")]
    [InlineData("дезертир")]
    [InlineData("військові")]
    public async Task UkrainianQueryFindsAUkrainianClaimByWordOrPartOfAWord(string q)
    {
        var tag = NewTag();
        var claim = await CreateAsync(Story.UkrainianDesertion, tag, language: "uk");
        var english = await CreateAsync(Story.Training, tag);

        var items = await AllAsync($"tag={tag}&q={Uri.EscapeDataString(q)}");

        Assert.Equal([claim], Ids(items));
        Assert.Equal(Story.UkrainianDesertion, items[0].Str("statement"));
        Assert.DoesNotContain(english, Ids(items));
    }

    [Theory]
    [InlineData("relevance")]
    [InlineData("-updatedAt")]
    public async Task PartOfACyrillicWordFindsLongerWordsWhileLatinWordsAreMatchedWhole(string sort)
    {
        var tag = NewTag();
        var english = await CreateAsync("Officials in Pyongyang denied sending troops to Покровська.", tag);
        var ukrainian = await CreateAsync("Військових із Pyongyang перекинули до Покровська.", tag, language: "uk");

        var cyrillicPart = await AllAsync($"tag={tag}&q={Uri.EscapeDataString("Покровськ")}&sort={sort}");
        var cyrillicWord = await AllAsync($"tag={tag}&q={Uri.EscapeDataString("Покровська")}&sort={sort}");
        var latinPart = await AllAsync($"tag={tag}&q=ongya&sort={sort}");
        var latinWord = await AllAsync($"tag={tag}&q=Pyongyang&sort={sort}");

        // English claims are matched by words only, also for a Cyrillic word they quote.
        Assert.Equal([ukrainian], Ids(cyrillicPart));
        Assert.Equal(new[] { english, ukrainian }.Order(), Ids(cyrillicWord).Order());
        Assert.Empty(latinPart);
        Assert.Equal(new[] { english, ukrainian }.Order(), Ids(latinWord).Order());
    }

    /// <summary>
    /// PostgreSQL's Russian stemmer reduces дезертировали and дезертировавших to дезертирова, солдаты
    /// and солдатами to солдат, воинской части and воинских частях to воинск част. (It does not join
    /// дезертирство, stem дезертирств, to the verb.)
    /// </summary>
    [Theory]
    [InlineData("дезертировали")]
    [InlineData("дезертировавших")]
    [InlineData("солдатами")]
    [InlineData("воинских частях")]
    public async Task RussianQueryMatchesOtherWordFormsOfARussianClaim(string q)
    {
        var tag = NewTag();
        var claim = await CreateAsync(Story.RussianDesertion, tag, language: "ru");
        var english = await CreateAsync(Story.Deserted, tag);

        var items = await AllAsync($"tag={tag}&q={Uri.EscapeDataString(q)}");

        Assert.Equal([claim], Ids(items));
        Assert.DoesNotContain(english, Ids(items));
    }

    [Theory]
    [InlineData("러시아에서")]
    [InlineData("러시아")]
    [InlineData("북한군")]
    public async Task KoreanQueryFindsAKoreanClaimThoughParticlesAreGluedToWords(string q)
    {
        var tag = NewTag();
        var claim = await CreateAsync(Story.KoreanTraining, tag, language: "ko");
        var english = await CreateAsync(Story.Training, tag);

        var items = await AllAsync($"tag={tag}&q={Uri.EscapeDataString(q)}");

        Assert.Equal([claim], Ids(items));
        Assert.Equal(Story.KoreanTraining, items[0].Str("statement"));
        Assert.DoesNotContain(english, Ids(items));
    }

    /// <summary>
    /// Most Korean words are two syllables (훈련 training, 북한 North Korea) and are written with a
    /// particle attached (훈련을, 북한군이), so a search for the word alone must still find the claim.
    /// </summary>
    [Theory]
    [InlineData("훈련")]
    [InlineData("북한")]
    public async Task AKoreanTwoSyllableWordFindsAKoreanClaimWhereAParticleIsAttached(string q)
    {
        var tag = NewTag();
        var claim = await CreateAsync(Story.KoreanTraining, tag, language: "ko");
        var english = await CreateAsync(Story.Training, tag);

        var items = await AllAsync($"tag={tag}&q={Uri.EscapeDataString(q)}");

        Assert.Equal([claim], Ids(items));
        Assert.DoesNotContain(english, Ids(items));
    }

    [Fact]
    public async Task LanguageAndQCombine()
    {
        var tag = NewTag();
        var russian = await CreateAsync(Story.RussianDesertion, tag, language: "ru");
        var ukrainian = await CreateAsync(Story.UkrainianDesertion, tag, language: "uk");

        var ru = await AllAsync($"tag={tag}&language=ru&q={Uri.EscapeDataString("дезертир")}");
        var uk = await AllAsync($"tag={tag}&language=uk&q={Uri.EscapeDataString("дезертир")}");
        var any = await AllAsync($"tag={tag}&q={Uri.EscapeDataString("дезертир")}");

        Assert.Equal([russian], Ids(ru));
        Assert.Equal([ukrainian], Ids(uk));
        Assert.Equal(new[] { russian, ukrainian }.Order(), Ids(any).Order());
    }

    [Fact]
    public async Task QMatchingNothingIsAnEmptyPage()
    {
        var tag = NewTag();
        await CreateAsync(Story.Training, tag);

        var page = await PageAsync($"tag={tag}&q=Pyongyang");

        Assert.Equal(0, page.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, page.GetProperty("nextCursor").ValueKind);
    }

    [Fact]
    public async Task LikeWildcardsInQMatchOnlyThemselves()
    {
        // Cyrillic queries, so that they reach the substring match where % and _ would be wildcards.
        var tag = NewTag();
        var percent = await CreateAsync("Громадське: 100% частини дезертирували.", tag, language: "uk");
        var digits = await CreateAsync("Суспільне: 1000 солдатів дезертирували.", tag, language: "uk");
        var underscore = await CreateAsync("Видання цитує файл частина_18_список.", tag, language: "uk");
        var other = await CreateAsync("Видання цитує файл частинаX18Xсписок.", tag, language: "uk");

        var byPercent = await AllAsync($"tag={tag}&q={Uri.EscapeDataString("100% частин")}");
        var byUnderscore = await AllAsync($"tag={tag}&q={Uri.EscapeDataString("частина_18")}");

        Assert.Equal([percent], Ids(byPercent));
        Assert.DoesNotContain(digits, Ids(byPercent));
        Assert.Equal([underscore], Ids(byUnderscore));
        Assert.DoesNotContain(other, Ids(byUnderscore));
    }

    [Theory]
    [InlineData("\"there is\" -evidence OR \\")]
    [InlineData("a:b & c | !d")]
    [InlineData("'); DROP TABLE claims; --")]
    [InlineData("(((")]
    public async Task QWithSearchSyntaxIsNotAnError(string q)
    {
        var tag = NewTag();
        var claim = await CreateAsync("Lloyd Austin: there is evidence.", tag);

        var page = await PageAsync($"tag={tag}&q={Uri.EscapeDataString(q)}");

        Assert.DoesNotContain(claim, Ids(page.GetProperty("items").EnumerateArray()));
        Assert.Equal([claim], Ids(await AllAsync($"tag={tag}")));
    }

    // ---- order ----

    [Fact]
    public async Task WithQTheBestMatchComesFirstAStatementMatchBeforeASummaryMatch()
    {
        var tag = NewTag();
        var inStatement = await CreateAsync(Story.Deserted, tag);
        var inSummary = await CreateAsync(Story.Training, tag, summary: "Suspilne later reported that some of them deserted.");
        await CreateAsync(Story.Training, tag);

        var byDefault = await AllAsync($"tag={tag}&q=desertion");
        var byRelevance = await AllAsync($"tag={tag}&q=desertion&sort=relevance");
        var byUpdate = await AllAsync($"tag={tag}&q=desertion&sort=-updatedAt");

        // The summary match was written last, so the time orders put it first: only relevance puts it second.
        Assert.Equal([inStatement, inSummary], Ids(byDefault));
        Assert.Equal([inStatement, inSummary], Ids(byRelevance));
        Assert.Equal([inSummary, inStatement], Ids(byUpdate));
    }

    [Fact]
    public async Task RelevancePagesFollowTheSameOrder()
    {
        var tag = NewTag();
        var statements = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            statements.Add(await CreateAsync($"{Story.Deserted} Report {i}.", tag));
        }

        var summaries = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            summaries.Add(await CreateAsync($"{Story.Training} Report {i}.", tag, summary: "Hromadske says some deserted."));
        }

        var whole = Ids(await AllAsync($"tag={tag}&q=desertion", limit: 200));
        var paged = Ids(await AllAsync($"tag={tag}&q=desertion", limit: 2));

        Assert.Equal(whole, paged);
        Assert.Equal(statements.Order(), whole.Take(3).Order());
        Assert.Equal(summaries.Order(), whole.Skip(3).Order());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("-updatedAt")]
    [InlineData("-createdAt")]
    [InlineData("-firstReportedOn")]
    public async Task EachSortOrdersNewestFirst(string? sort)
    {
        var tag = NewTag();
        var a = await CreateAsync("Lloyd Austin: there is evidence North Korean soldiers are in Russia.", tag, firstReportedOn: "2024-10-01");
        var b = await CreateAsync(Story.Deserted, tag, firstReportedOn: null);
        var c = await CreateAsync(Story.Training, tag, firstReportedOn: "2024-10-23");
        // a is edited last: newest by updatedAt, oldest by createdAt.
        await (await _client.PutAsJsonAsync($"/claims/{a}", new
        {
            statement = "Lloyd Austin: there is evidence that North Korean soldiers are in Russia.",
            tags = new[] { tag },
            firstReportedOn = "2024-10-01",
        })).ReadJsonAsync(HttpStatusCode.OK);

        var items = await AllAsync($"tag={tag}" + (sort is null ? "" : $"&sort={sort}"), limit: 1);

        Guid[] expected = sort switch
        {
            "-createdAt" => [c, b, a],
            "-firstReportedOn" => [c, a, b],
            _ => [a, c, b],
        };
        Assert.Equal(expected, Ids(items));
    }

    [Fact]
    public async Task ClaimsFirstReportedOnTheSameDayAreAllListedAcrossPages()
    {
        var tag = NewTag();
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await CreateAsync($"{Story.Training} Report {i}.", tag, firstReportedOn: "2024-10-23"));
            ids.Add(await CreateAsync($"{Story.Deserted} Report {i}.", tag, firstReportedOn: null));
        }

        var items = await AllAsync($"tag={tag}&sort=-firstReportedOn", limit: 3);

        var missing = ids.Except(Ids(items)).ToList();
        Assert.True(missing.Count == 0,
            $"Paging 3 at a time listed {items.Count} of {ids.Count} claims; missing {missing.Count}, " +
            $"all with no firstReportedOn: {missing.All(id => ids.IndexOf(id) % 2 == 1)}.");
        Assert.Equal(ids.Order(), Ids(items).Order());
        Assert.All(items.Take(5), c => Assert.Equal("2024-10-23", c.Str("firstReportedOn")));
        Assert.All(items.Skip(5), c => Assert.Equal(JsonValueKind.Null, c.GetProperty("firstReportedOn").ValueKind));
    }

    // ---- bad values ----

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=201", "limit")]
    [InlineData("limit=-1", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cursor")]
    [InlineData("status=verified", "status")]
    [InlineData("status=in_review&status=Confirmed", "status")]
    [InlineData("status=", "status")]
    [InlineData("stance=supports", "stance")]
    [InlineData("sourceId=0192b8a0-5000-7000-8000-000000000003&stance=agrees", "stance")]
    [InlineData("sourceId=not-a-uuid", "sourceId")]
    [InlineData("reportedFrom=2024-13-45", "reportedFrom")]
    [InlineData("reportedTo=23.10.2024x", "reportedTo")]
    [InlineData("reportedFrom=2024-10-31&reportedTo=2024-10-01", "reportedTo")]
    [InlineData("updatedSince=yesterday", "updatedSince")]
    [InlineData("sort=relevance", "sort")]
    [InlineData("sort=bogus", "sort")]
    [InlineData("sort=updatedAt", "sort")]
    [InlineData("language=english!", "language")]
    [InlineData("tag=Not%20A%20Slug!", "tag")]
    public async Task ABadParameterIs400NamingIt(string query, string parameter)
    {
        var response = await _client.GetAsync($"/claims?{query}");

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        var messages = ErrorsNaming(problem, parameter);
        Assert.NotEmpty(messages);
        Assert.All(messages, m => Assert.False(string.IsNullOrWhiteSpace(m)));
    }

    [Theory]
    [InlineData("status=verified", "status", "in_review")]
    [InlineData("sourceId=0192b8a0-5000-7000-8000-000000000003&stance=agrees", "stance", "unable_to_verify")]
    [InlineData("sort=bogus", "sort", "-firstReportedOn")]
    [InlineData("stance=supports", "stance", "sourceId")]
    [InlineData("sort=relevance", "sort", "q")]
    public async Task TheMessageSaysWhatIsAllowed(string query, string parameter, string words)
    {
        var problem = await (await _client.GetAsync($"/claims?{query}")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(ErrorsNaming(problem, parameter), m => m.Contains(words, StringComparison.Ordinal));
    }

    [Fact]
    public async Task LimitsOneAndTwoHundredAreAccepted()
    {
        var tag = NewTag();
        await CreateAsync(Story.Training, tag);
        await CreateAsync(Story.Deserted, tag);

        var one = await PageAsync($"tag={tag}", limit: 1);
        var most = await PageAsync($"tag={tag}", limit: 200);

        Assert.Equal(1, one.GetProperty("items").GetArrayLength());
        Assert.NotNull(one.GetProperty("nextCursor").GetString());
        Assert.Equal(2, most.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, most.GetProperty("nextCursor").ValueKind);
    }

    // ---- cursors ----

    [Fact]
    public async Task ACursorFollowedWithTheSameFiltersGivesTheNextPage()
    {
        var tag = NewTag();
        var older = await CreateAsync(Story.Training, tag);
        var newer = await CreateAsync(Story.Deserted, tag);

        var first = await PageAsync($"tag={tag}&status=unverified", limit: 1);
        var cursor = first.GetProperty("nextCursor").GetString()!;
        // The same filters written differently: repeated and reordered parameters, another page size.
        var second = await PageAsync($"status=unverified&status=unverified&tag={tag.ToUpperInvariant()}&cursor={Uri.EscapeDataString(cursor)}", limit: 5);

        Assert.Equal([newer], Ids(first.GetProperty("items").EnumerateArray()));
        Assert.Equal([older], Ids(second.GetProperty("items").EnumerateArray()));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);
    }

    [Theory]
    [InlineData("status=in_review")]
    [InlineData("status=unverified&status=in_review")]
    [InlineData("")]
    [InlineData("status=unverified&language=uk")]
    [InlineData("status=unverified&q=desertion")]
    [InlineData("status=unverified&sort=-createdAt")]
    [InlineData("status=unverified&reportedFrom=2024-10-01")]
    [InlineData("status=unverified&updatedSince=2024-10-01T00:00:00Z")]
    [InlineData("status=unverified&sourceId=0192b8a0-5000-7000-8000-000000000003")]
    public async Task ACursorFromAnotherQueryIs400(string otherFilters)
    {
        var tag = NewTag();
        await CreateAsync(Story.Training, tag);
        await CreateAsync(Story.Deserted, tag);
        var cursor = (await PageAsync($"tag={tag}&status=unverified", limit: 1)).GetProperty("nextCursor").GetString()!;

        var response = await _client.GetAsync($"/claims?tag={tag}&{otherFilters}&limit=1&cursor={Uri.EscapeDataString(cursor)}");

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors("cursor"), m => m.Contains("cursor", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ACursorWithAnotherTagIs400()
    {
        var tag = NewTag();
        await CreateAsync(Story.Training, tag);
        await CreateAsync(Story.Deserted, tag);
        var cursor = (await PageAsync($"tag={tag}", limit: 1)).GetProperty("nextCursor").GetString()!;

        var response = await _client.GetAsync($"/claims?tag={NewTag()}&limit=1&cursor={Uri.EscapeDataString(cursor)}");

        Assert.NotEmpty((await response.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors("cursor"));
    }

    [Fact]
    public async Task ACursorOfTheSourcesListIs400ForClaims()
    {
        await _client.SourceAsync("Suspilne", "outlet", "C");
        await _client.SourceAsync("Hromadske", "outlet", "C");
        var cursor = (await (await _client.GetAsync("/sources?limit=1")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("nextCursor").GetString()!;

        var response = await _client.GetAsync($"/claims?cursor={Uri.EscapeDataString(cursor)}");

        Assert.NotEmpty((await response.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors("cursor"));
    }

    [Fact]
    public async Task AnEditedCursorIs400()
    {
        var tag = NewTag();
        await CreateAsync(Story.Training, tag);
        await CreateAsync(Story.Deserted, tag);
        var cursor = (await PageAsync($"tag={tag}", limit: 1)).GetProperty("nextCursor").GetString()!;

        // Flip one character in the middle: a different position (or signature) than the API issued.
        var middle = cursor.Length / 2;
        var edited = cursor[..middle] + (cursor[middle] == 'A' ? 'B' : 'A') + cursor[(middle + 1)..];
        var response = await _client.GetAsync($"/claims?tag={tag}&limit=1&cursor={Uri.EscapeDataString(edited)}");

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors("cursor"), m => m.Contains("unchanged", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EditingAnyCharacterOfACursorIs400()
    {
        var tag = NewTag();
        await CreateAsync(Story.Training, tag);
        await CreateAsync(Story.Deserted, tag);
        var cursor = (await PageAsync($"tag={tag}", limit: 1)).GetProperty("nextCursor").GetString()!;

        var accepted = new List<string>();
        for (var i = 0; i < cursor.Length; i++)
        {
            // Flips the high bit of the character's six, which every position of the text carries.
            var edited = cursor[..i] + FlipBits(cursor[i], 0b100000) + cursor[(i + 1)..];
            var response = await _client.GetAsync($"/claims?tag={tag}&limit=1&cursor={Uri.EscapeDataString(edited)}");
            if (response.StatusCode != HttpStatusCode.BadRequest)
            {
                accepted.Add($"position {i}: {edited} -> {(int)response.StatusCode}");
            }
        }

        Assert.Empty(accepted);
    }

    [Fact]
    public async Task ACursorWithTheLowestBitOfItsLastCharacterEditedIs400()
    {
        var tag = NewTag();
        await CreateAsync(Story.Training, tag);
        await CreateAsync(Story.Deserted, tag);
        var cursor = (await PageAsync($"tag={tag}", limit: 1)).GetProperty("nextCursor").GetString()!;

        // A cursor is 42 bytes, 56 characters of six bits each, so even the last character's lowest
        // bit is data: a decoder that ignored spare bits would still see the bytes change here.
        var edited = cursor[..^1] + FlipBits(cursor[^1], 0b000001);
        Assert.NotEqual(cursor, edited);
        var response = await _client.GetAsync($"/claims?tag={tag}&limit=1&cursor={Uri.EscapeDataString(edited)}");

        Assert.NotEmpty((await response.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors("cursor"));
    }

    [Theory]
    [InlineData("x")]
    [InlineData("AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")]
    [InlineData("%2B%2F%3D")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task AForgedCursorIs400NotA500(string cursor)
    {
        var response = await _client.GetAsync($"/claims?cursor={cursor}");

        Assert.NotEmpty((await response.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors("cursor"));
    }

    // ---- helpers ----

    private const string Base64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    private static char FlipBits(char c, int mask) => Base64Url[Base64Url.IndexOf(c, StringComparison.Ordinal) ^ mask];

    private static string NewTag() => $"t{Guid.NewGuid():N}"[..12];

    private async Task<Guid> CreateAsync(string statement, string tag, string language = "en", string? summary = null,
        string? firstReportedOn = "2024-10-23", string[]? moreTags = null, object[]? evidence = null)
    {
        var response = await _client.PostAsJsonAsync("/claims", new
        {
            statement,
            summary,
            language,
            tags = new[] { tag }.Concat(moreTags ?? []).ToArray(),
            firstReportedOn,
            evidence = evidence ?? [],
        });
        return (await response.ReadJsonAsync(HttpStatusCode.Created)).Id();
    }

    private async Task<JsonElement> ClaimAsync(Guid id) =>
        await (await _client.GetAsync($"/claims/{id}")).ReadJsonAsync(HttpStatusCode.OK);

    private async Task<JsonElement> PageAsync(string query, int limit = 200) =>
        await (await _client.GetAsync($"/claims?{query}&limit={limit}")).ReadJsonAsync(HttpStatusCode.OK);

    /// <summary>Every claim the query finds, following nextCursor to the last page.</summary>
    private async Task<List<JsonElement>> AllAsync(string query, int limit = 200)
    {
        var items = await _client.ReadAllPagesAsync($"/claims?{query}&limit={limit}", maxPages: 1000);
        Assert.Equal(items.Count, Ids(items).Distinct().Count());
        return items;
    }

    private static List<Guid> Ids(IEnumerable<JsonElement> items) => [.. items.Select(c => c.Id())];

    /// <summary>The messages for a query parameter: under its name, or under name[i] for one value of a repeatable one.</summary>
    private static string[] ErrorsNaming(JsonElement problem, string parameter)
    {
        Assert.True(problem.TryGetProperty("errors", out var errors), $"No 'errors' in problem: {problem}");
        var messages = errors.EnumerateObject()
            .Where(e => e.Name == parameter || e.Name.StartsWith(parameter + "[", StringComparison.Ordinal))
            .SelectMany(e => e.Value.EnumerateArray().Select(m => m.GetString()!))
            .ToArray();
        Assert.True(messages.Length > 0, $"No error for '{parameter}' in: {errors}");
        return messages;
    }
}
