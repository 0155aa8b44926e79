using System.Net.Http.Headers;
using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// Bad input of every kind is a 4xx problem that names what is wrong, never a 500, and leaves the
/// stored data as they were. Tests of one class run one after another, so counting claims before
/// and after a request is safe here.
/// </summary>
public sealed class BadInputTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Theory]
    [InlineData("""{"language":"en"}""", "statement", "must not be empty")]
    [InlineData("""{"statement":"   "}""", "statement", "blank")]
    [InlineData("""{"statement":"North Korean soldiers\u0000 are training in Russia."}""", "statement", "NUL")]
    [InlineData("""{"statement":5}""", "statement", "")]
    [InlineData("""{"statement":"North Korean soldiers are training in Russia.","summary":"Lloyd Austin\u0000"}""", "summary", "NUL")]
    [InlineData("""{"statement":"North Korean soldiers are training in Russia.","firstReportedOn":"2024-13-45"}""", "firstReportedOn", "")]
    [InlineData("""{"statement":"North Korean soldiers are training in Russia.","firstReportedOn":"2999-01-01"}""", "firstReportedOn", "between 1900-01-01 and today")]
    [InlineData("""{"statement":"North Korean soldiers are training in Russia.","tags":["north-korea","Not A Slug!"]}""", "tags[1]", "slug")]
    [InlineData("""{"statement":"North Korean soldiers are training in Russia.","language":"english!"}""", "language", "BCP 47")]
    [InlineData("""{"statement":"North Korean soldiers are training in Russia.","evidence":[{"sourceId":"0192b8a0-5000-7000-8000-000000000001","stance":"agrees"}]}""", "evidence[0].stance", "unable_to_verify")]
    [InlineData("""{"statement":"North Korean soldiers are training in Russia.","evidence":[{"sourceId":"0192b8a0-5000-7000-8000-000000000001","stance":"asserts","credibility":0}]}""", "evidence[0].credibility", "between 1 and 6")]
    [InlineData("""{"statement":"North Korean soldiers are training in Russia.","evidence":[{"sourceId":"0192b8a0-5000-7000-8000-000000000001","stance":"asserts","credibility":7}]}""", "evidence[0].credibility", "between 1 and 6")]
    [InlineData("""{"statement":"North Korean soldiers are training in Russia.","evidence":[{"sourceId":"0192b8a0-5000-7000-8000-000000000001","stance":"asserts","url":"ftp://suspilne.media/"}]}""", "evidence[0].url", "http")]
    [InlineData("""{"statement":"North Korean soldiers are training in Russia.","evidence":[{"sourceId":"0192b8a0-5000-7000-8000-000000000001","stance":"asserts","url":"not a url"}]}""", "evidence[0].url", "http")]
    [InlineData("""{"statement":"North Korean soldiers are training in Russia.","evidence":[{"sourceId":"0192b8a0-5000-7000-8000-000000000001","stance":"asserts","quote":"there is\u0000 evidence"}]}""", "evidence[0].quote", "NUL")]
    [InlineData("""{"statement":"North Korean soldiers are training in Russia.","evidence":[{"stance":"asserts"}]}""", "evidence[0].sourceId", "source")]
    public async Task AnInvalidNewClaimIs400NamingTheFieldAndStoresNothing(string json, string field, string words)
    {
        var before = await ClaimCountAsync();

        var problem = await (await _client.PostRawAsync("/claims", json)).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors(field), m => m.Contains(words, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(before, await ClaimCountAsync());
    }

    [Theory]
    [InlineData("statement", 2001, "2000")]
    [InlineData("summary", 4001, "4000")]
    public async Task TextOverItsLimitIs400SayingTheLimit(string field, int length, string limit)
    {
        var body = new Dictionary<string, object> { ["statement"] = Story.Training, [field] = new string('a', length) };

        var problem = await (await _client.PostAsJsonAsync("/claims", body)).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors(field), m => m.Contains(limit, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AStatementOfExactly2000CharactersIsAccepted()
    {
        var statement = new string('a', 2000);

        var created = await (await _client.PostAsJsonAsync("/claims", new { statement })).ReadJsonAsync(HttpStatusCode.Created);

        Assert.Equal(statement, created.Str("statement"));
    }

    [Fact]
    public async Task TwentyOneTagsAre400()
    {
        var tags = Enumerable.Range(1, 21).Select(i => $"tag-{i}").ToArray();

        var problem = await (await _client.PostAsJsonAsync("/claims", new { statement = Story.Training, tags })).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors("tags"), m => m.Contains("20", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"name":"Business Insider","kind":"blog"}""", "kind", "social_media")]
    [InlineData("""{"name":"Business Insider"}""", "kind", "Required")]
    [InlineData("""{"name":"Business Insider","kind":"outlet","reliability":"Z"}""", "reliability", "A, B, C, D, E, F")]
    [InlineData("""{"name":"Suspilne","kind":"outlet","url":"ftp://suspilne.media/"}""", "url", "http")]
    [InlineData("""{"name":"Suspilne","kind":"outlet","url":"not a url"}""", "url", "http")]
    [InlineData("""{"name":"Sus\u0000pilne","kind":"outlet"}""", "name", "NUL")]
    [InlineData("""{"kind":"outlet"}""", "name", "empty")]
    [InlineData("""{"name":"Suspilne","kind":"outlet","description":"Ukrainian\u0000 public broadcaster."}""", "description", "NUL")]
    public async Task AnInvalidNewSourceIs400NamingTheField(string json, string field, string words)
    {
        var problem = await (await _client.PostRawAsync("/sources", json)).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors(field), m => m.Contains(words, StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("""{"sourceId":"{source}","stance":"agrees"}""", "stance", "unable_to_verify")]
    [InlineData("""{"sourceId":"{source}"}""", "stance", "Required")]
    [InlineData("""{"sourceId":"{source}","stance":"supports","credibility":0}""", "credibility", "between 1 and 6")]
    [InlineData("""{"sourceId":"{source}","stance":"supports","credibility":7}""", "credibility", "between 1 and 6")]
    [InlineData("""{"sourceId":"{source}","stance":"supports","url":"ftp://hromadske.ua/"}""", "url", "http")]
    [InlineData("""{"sourceId":"{source}","stance":"supports","url":"not a url"}""", "url", "http")]
    [InlineData("""{"sourceId":"{source}","stance":"supports","quote":"18 soldiers\u0000 deserted"}""", "quote", "NUL")]
    [InlineData("""{"sourceId":"{source}","stance":"supports","note":"anonymous\u0000"}""", "note", "NUL")]
    [InlineData("""{"sourceId":"nope","stance":"supports"}""", "sourceId", "")]
    [InlineData("""{"stance":"supports"}""", "sourceId", "source")]
    public async Task InvalidEvidenceIs400NamingTheFieldAndLeavesTheClaimUnchanged(string json, string field, string words)
    {
        var source = await _client.SourceAsync("Hromadske", "outlet", "C");
        var claim = await _client.ClaimAsync(Story.Deserted);
        var before = await ReadAsync($"/claims/{claim}");

        var response = await _client.PostRawAsync($"/claims/{claim}/evidence", json.Replace("{source}", source.ToString(), StringComparison.Ordinal));

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors(field), m => m.Contains(words, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(before.GetRawText(), (await ReadAsync($"/claims/{claim}")).GetRawText());
    }

    [Theory]
    [InlineData("""{"status":"verified"}""", "status", "in_review")]
    [InlineData("""{"status":5}""", "status", "in_review")]
    [InlineData("""{"note":"Seeking a second source."}""", "status", "Required")]
    [InlineData("""{"status":"disputed"}""", "note", "disputed")]
    [InlineData("""{"status":"in_review","note":"Seeking\u0000 a second source."}""", "note", "NUL")]
    public async Task ABadStatusChangeIs400AndLeavesStatusAndHistoryUnchanged(string json, string field, string words)
    {
        var claim = await _client.ClaimAsync(Story.Training);
        var status = await ReadAsync($"/claims/{claim}/status");
        var history = await ReadAsync($"/claims/{claim}/history");

        var problem = await (await _client.PutRawAsync($"/claims/{claim}/status", json)).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors(field), m => m.Contains(words, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(status.GetRawText(), (await ReadAsync($"/claims/{claim}/status")).GetRawText());
        Assert.Equal(history.GetRawText(), (await ReadAsync($"/claims/{claim}/history")).GetRawText());
    }

    [Theory]
    [InlineData("[]", "body", "JSON object")]
    [InlineData("""[{"statement":"North Korean soldiers are training in Russia."}]""", "body", "JSON object")]
    [InlineData("", "body", "required")]
    [InlineData("null", "body", "required")]
    public async Task ABodyThatIsNotAJsonObjectIs400(string json, string field, string words)
    {
        var before = await ClaimCountAsync();

        var problem = await (await _client.PostRawAsync("/claims", json)).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors(field), m => m.Contains(words, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(before, await ClaimCountAsync());
    }

    [Theory]
    [InlineData("/claims")]
    [InlineData("/sources")]
    public async Task MalformedJsonIs400SayingTheBodyIsNotJson(string url)
    {
        var problem = await (await _client.PostRawAsync(url, """{"statement":""")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains("JSON", problem.Str("title"), StringComparison.Ordinal);
        Assert.NotEmpty(problem.GetProperty("errors").EnumerateObject());
    }

    [Theory]
    [InlineData("/claims?limit=0", "limit", "between 1 and 200")]
    [InlineData("/claims?limit=201", "limit", "between 1 and 200")]
    [InlineData("/claims?limit=abc", "limit", "abc")]
    [InlineData("/claims?cursor=garbage", "cursor", "nextCursor")]
    [InlineData("/sources?limit=0", "limit", "between 1 and 200")]
    [InlineData("/sources?cursor=garbage", "cursor", "nextCursor")]
    [InlineData("/claims/{claim}/evidence?limit=201", "limit", "between 1 and 200")]
    [InlineData("/claims/{claim}/evidence?cursor=garbage", "cursor", "nextCursor")]
    [InlineData("/claims/{claim}/history?limit=abc", "limit", "abc")]
    [InlineData("/claims/{claim}/history?cursor=garbage", "cursor", "nextCursor")]
    public async Task BadPagingParametersAre400NamingTheParameter(string url, string field, string words)
    {
        var claim = await _client.ClaimAsync(Story.Training);

        var response = await _client.GetAsync(url.Replace("{claim}", claim.ToString(), StringComparison.Ordinal));

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors(field), m => m.Contains(words, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("GET", "/claims/not-a-uuid")]
    [InlineData("PUT", "/claims/not-a-uuid")]
    [InlineData("DELETE", "/sources/42")]
    [InlineData("GET", "/claims/not-a-uuid/evidence")]
    [InlineData("GET", "/claims/{claim}/evidence/not-a-uuid")]
    [InlineData("PUT", "/claims/not-a-uuid/status")]
    [InlineData("GET", "/claims/not-a-uuid/history")]
    public async Task ANonUuidIdInThePathIs404Problem(string method, string url)
    {
        var claim = await _client.ClaimAsync(Story.Training);
        var request = new HttpRequestMessage(new HttpMethod(method), url.Replace("{claim}", claim.ToString(), StringComparison.Ordinal));
        if (method == "PUT")
        {
            request.Content = JsonContent.Create(new { statement = Story.Training, status = "in_review" });
        }

        var problem = await (await _client.SendAsync(request)).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal("/problems/not-found", problem.Str("type"));
        Assert.Equal("The resource does not exist.", problem.Str("title"));
    }

    [Theory]
    [InlineData("/claims", """{"statement":"North Korean soldiers are training in Russia."}""", "text/plain")]
    [InlineData("/claims", "<claim><statement>North Korean soldiers are training in Russia.</statement></claim>", "application/xml")]
    [InlineData("/claims", "statement=North+Korean+soldiers+are+training+in+Russia.", "application/x-www-form-urlencoded")]
    [InlineData("/sources", """{"name":"Suspilne","kind":"outlet"}""", "text/plain")]
    public async Task ANonJsonContentTypeIs415ProblemAndStoresNothing(string url, string body, string contentType)
    {
        var before = await ClaimCountAsync();

        var problem = await (await _client.PostRawAsync(url, body, contentType)).ReadProblemAsync(HttpStatusCode.UnsupportedMediaType);

        Assert.Equal("/problems/unsupported-media-type", problem.Str("type"));
        Assert.Equal(before, await ClaimCountAsync());
    }

    [Fact]
    public async Task ANonJsonStatusChangeIs415ProblemAndLeavesTheStatus()
    {
        var claim = await _client.ClaimAsync(Story.Training);

        var response = await _client.PutAsync($"/claims/{claim}/status",
            new StringContent("status=in_review", new MediaTypeHeaderValue("application/x-www-form-urlencoded")));

        await response.ReadProblemAsync(HttpStatusCode.UnsupportedMediaType);
        Assert.Equal("unverified", (await ReadAsync($"/claims/{claim}/status")).Str("status"));
    }

    [Theory]
    [InlineData("POST", "/claims", """{"statement":5}""", "statement", "string")]
    [InlineData("POST", "/claims", """{"statement":"North Korean soldiers are training in Russia.","firstReportedOn":"2024-13-45"}""", "firstReportedOn", "date")]
    [InlineData("POST", "/claims", """{"statement":"North Korean soldiers are training in Russia.","tags":"russia"}""", "tags", "array")]
    [InlineData("POST", "/claims", """{"statement":"North Korean soldiers are training in Russia.","evidence":[{"sourceId":"nope","stance":"asserts"}]}""", "evidence[0].sourceId", "UUID")]
    [InlineData("POST", "/claims", """{"statement":"North Korean soldiers are training in Russia.","evidence":[{"sourceId":"0192b8a0-5000-7000-8000-000000000001","stance":"asserts","credibility":"high"}]}""", "evidence[0].credibility", "whole number")]
    [InlineData("POST", "/sources", """{"name":["Suspilne"],"kind":"outlet"}""", "name", "string")]
    [InlineData("GET", "/claims?limit=abc", null, "limit", "whole number")]
    public async Task AValueOfTheWrongTypeIs400SayingWhatWasExpected(string method, string url, string? json, string field, string expected)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (json is not null)
        {
            request.Content = new StringContent(json, new MediaTypeHeaderValue("application/json"));
        }

        var problem = await (await _client.SendAsync(request)).ReadProblemAsync(HttpStatusCode.BadRequest);

        var messages = problem.Errors(field);
        Assert.True(messages.Any(m => m.Contains(expected, StringComparison.OrdinalIgnoreCase)),
            $"Expected the error for '{field}' to say it must be {expected}, got: {string.Join(" | ", messages)}");
    }

    [Fact]
    public async Task AnUpperCaseSchemeIsAUrlAndIsStoredAsSent()
    {
        var created = await (await _client.PostAsJsonAsync("/sources", new { name = "Suspilne", kind = "outlet", url = "HTTPS://suspilne.media/" }))
            .ReadJsonAsync(HttpStatusCode.Created);

        Assert.Equal("HTTPS://suspilne.media/", created.Str("url"));
    }

    [Theory]
    [InlineData(" https://suspilne.media/")]
    [InlineData("https://suspilne.media/ ")]
    [InlineData("https://suspilne .media/")]
    public async Task AUrlWithABlankIsRefusedAsAUrlError(string url)
    {
        var problem = await (await _client.PostAsJsonAsync("/sources", new { name = "Suspilne", kind = "outlet", url })).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains("absolute http or https URL without spaces", Assert.Single(problem.Errors("url")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"statement":""}""", "statement")]
    [InlineData("""{"statement":"North Korean soldiers\u0000 are training in Russia."}""", "statement")]
    [InlineData("""{"statement":"North Korean soldiers are training in Russia.","tags":["north-korea","Not A Slug!"]}""", "tags[1]")]
    [InlineData("""{"statement":"North Korean soldiers are training in Russia.","tags":["t1","t2","t3","t4","t5","t6","t7","t8","t9","t10","t11","t12","t13","t14","t15","t16","t17","t18","t19","t20","t21"]}""", "tags")]
    [InlineData("""{"statement":"North Korean soldiers are training in Russia.","language":"english!"}""", "language")]
    [InlineData("""{"statement":"North Korean soldiers are training in Russia.","firstReportedOn":"2024-13-45"}""", "firstReportedOn")]
    [InlineData("[]", "body")]
    public async Task ABadClaimReplacementIs400AndLeavesTheClaimUnchanged(string json, string field)
    {
        var claim = await _client.ClaimAsync(Story.Training);
        var before = await ReadAsync($"/claims/{claim}");

        var problem = await (await _client.PutRawAsync($"/claims/{claim}", json)).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.NotEmpty(problem.Errors(field));
        var after = await ReadAsync($"/claims/{claim}");
        Assert.Equal(before.GetRawText(), after.GetRawText());
        Assert.Equal(1, after.GetProperty("version").GetInt32());
        Assert.Equal(["north-korea", "russia"], after.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    [Theory]
    [InlineData("""{"name":"Suspilne","kind":"blog"}""", "kind")]
    [InlineData("""{"name":"Suspilne","kind":"outlet","reliability":"Z"}""", "reliability")]
    [InlineData("""{"name":"Suspilne","kind":"outlet","url":"ftp://suspilne.media/"}""", "url")]
    [InlineData("""{"name":"Sus\u0000pilne","kind":"outlet"}""", "name")]
    [InlineData("""{"name":"","kind":"outlet"}""", "name")]
    public async Task ABadSourceReplacementIs400AndLeavesTheSourceUnchanged(string json, string field)
    {
        var source = await _client.SourceAsync("Suspilne", "outlet", "C");
        var before = await ReadAsync($"/sources/{source}");

        var problem = await (await _client.PutRawAsync($"/sources/{source}", json)).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.NotEmpty(problem.Errors(field));
        var after = await ReadAsync($"/sources/{source}");
        Assert.Equal(before.GetRawText(), after.GetRawText());
        Assert.Equal("C", after.Str("reliability"));
    }

    // ---- JSON read strictly ---------------------------------------------------------------------

    [Theory]
    [InlineData("POST", "/claims", """{"statement":"North Korean soldiers are training in Russia.","statement":"North Korean soldiers have deserted."}""", "statement")]
    [InlineData("POST", "/claims", """{"statement":"North Korean soldiers are training in Russia.","evidence":[{"sourceId":"{source}","stance":"asserts","stance":"refutes"}]}""", "evidence[0].stance")]
    [InlineData("POST", "/sources", """{"name":"Suspilne","kind":"outlet","reliability":"C","reliability":"A"}""", "reliability")]
    [InlineData("PUT", "/claims/{claim}", """{"statement":"North Korean soldiers have deserted.","tags":["russia"],"tags":["kursk"]}""", "tags")]
    [InlineData("POST", "/claims/{claim}/evidence", """{"sourceId":"{source}","stance":"supports","quote":"a","quote":"b"}""", "quote")]
    [InlineData("PUT", "/claims/{claim}/status", """{"status":"in_review","status":"confirmed","note":"Seen by Suspilne."}""", "status")]
    [InlineData("POST", "/claims/statuses", """{"ids":["{claim}"],"ids":[]}""", "ids")]
    [InlineData("POST", "/admin/keys", """{"name":"night desk","role":"reader","role":"admin"}""", "role")]
    public async Task AJsonObjectWithADuplicatedPropertyIs400NamingItAndStoresNothing(string method, string url, string json, string field)
    {
        var source = await _client.SourceAsync("Suspilne", "outlet", "C");
        var claim = await _client.ClaimAsync(Story.Training);
        var before = await StoredAsync(claim);

        var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), Fill(url, claim, source))
        {
            Content = new StringContent(Fill(json, claim, source), new MediaTypeHeaderValue("application/json")),
        });

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        var property = field.Split('.')[^1];
        Assert.Equal($"The property '{property}' appears more than once. Send each property once.", Assert.Single(problem.Errors(field)));
        Assert.Equal(before, await StoredAsync(claim));
    }

    [Theory]
    [InlineData("/claims/{claim}/evidence", """{"sourceId":"{source}","stance":"supports","credibility":"2"}""", "credibility")]
    [InlineData("/claims", """{"statement":"North Korean soldiers are training in Russia.","evidence":[{"sourceId":"{source}","stance":"asserts","credibility":"1"}]}""", "evidence[0].credibility")]
    [InlineData("/claims/{claim}/evidence", """{"sourceId":"{source}","stance":"supports","credibility":"0x2"}""", "credibility")]
    public async Task ANumberSentAsAStringIs400SayingAWholeNumberIsExpected(string url, string json, string field)
    {
        var source = await _client.SourceAsync("Suspilne", "outlet", "C");
        var claim = await _client.ClaimAsync(Story.Training);
        var before = await StoredAsync(claim);

        var problem = await (await _client.PostRawAsync(Fill(url, claim, source), Fill(json, claim, source))).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal("Must be a whole number.", Assert.Single(problem.Errors(field)));
        Assert.Equal(before, await StoredAsync(claim));
    }

    // ---- Text that shows nothing ----------------------------------------------------------------

    public static TheoryData<string> Invisible() => new()
    {
        "\u200B",                  // zero-width space
        "\u200B\u200C\u200D\u2060", // zero-width (non-)joiners, word joiner
        "\uFEFF \u00A0\u3000",     // byte order mark, no-break and ideographic spaces
        "\u202E\u200F",            // direction overrides and marks
        "\u3164\u115F",            // Hangul fillers
        "\u0301\u0308",            // combining marks with nothing to sit on
        "\u2800",                  // Braille blank
    };

    [Theory]
    [MemberData(nameof(Invisible))]
    public async Task AStatementANameOrAVerdictNoteThatShowsNothingIsEmptyAnd400(string invisible)
    {
        var claim = await _client.ClaimAsync(Story.Training);
        var source = await _client.SourceAsync("Suspilne", "outlet", "C");
        await (await _client.PostAsJsonAsync($"/claims/{claim}/evidence", Story.Evidence(source, "supports"))).ReadJsonAsync(HttpStatusCode.Created);
        var before = await StoredAsync(claim);

        var statement = await (await _client.PostAsJsonAsync("/claims", new { statement = invisible })).ReadProblemAsync(HttpStatusCode.BadRequest);
        var name = await (await _client.PostAsJsonAsync("/sources", new { name = invisible, kind = "outlet" })).ReadProblemAsync(HttpStatusCode.BadRequest);
        var note = await (await _client.PutAsJsonAsync($"/claims/{claim}/status", new { status = "confirmed", note = invisible })).ReadProblemAsync(HttpStatusCode.BadRequest);
        var key = await (await _client.PostAsJsonAsync("/admin/keys", new { name = invisible, role = "reader" })).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains("only invisible characters", Assert.Single(statement.Errors("statement")), StringComparison.Ordinal);
        Assert.Contains("only invisible characters", Assert.Single(name.Errors("name")), StringComparison.Ordinal);
        Assert.Contains("note saying why is required", Assert.Single(note.Errors("note")), StringComparison.Ordinal);
        Assert.Contains("only invisible characters", Assert.Single(key.Errors("name")), StringComparison.Ordinal);
        Assert.Equal(before, await StoredAsync(claim));
    }

    [Fact]
    public async Task AnInvisibleNoteOnAnOpenStatusIsStoredAsNoNote()
    {
        var claim = await _client.ClaimAsync(Story.Training);

        var status = await _client.SetStatusAsync(claim, "in_review", "\u200B\uFEFF ");

        Assert.Equal(JsonValueKind.Null, status.GetProperty("note").ValueKind);
        var history = await ReadAsync($"/claims/{claim}/history");
        Assert.Equal(JsonValueKind.Null, history.GetProperty("items")[1].GetProperty("note").ValueKind);
    }

    [Fact]
    public async Task TextWithInvisibleCharactersAroundVisibleOnesIsAccepted()
    {
        var response = await _client.PostAsJsonAsync("/claims", new { statement = "\u200BNorth Korean soldiers are training in Russia.\uFEFF", tags = new[] { "north-korea" } });

        Assert.Equal("\u200BNorth Korean soldiers are training in Russia.\uFEFF", (await response.ReadJsonAsync(HttpStatusCode.Created)).Str("statement"));
    }

    // ---- Dates and times --------------------------------------------------------------------------

    public static TheoryData<string, string> OutOfRange() => new()
    {
        { "firstReportedOn", "0001-01-01" },
        { "firstReportedOn", "1899-12-31" },
        { "firstReportedOn", "9999-12-31" },
        { "firstReportedOn", "2999-01-01" },
        { "publishedAt", "0001-01-01T00:00:00Z" },
        { "publishedAt", "0001-01-01T00:00:00+14:00" },
        { "publishedAt", "1899-12-31T23:59:59Z" },
        { "publishedAt", "9999-12-31T23:59:59Z" },
        { "publishedAt", "9999-12-31T23:59:59-14:00" },
        { "publishedAt", "2999-01-01T00:00:00Z" },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public async Task EveryDateAndTimeFieldRefusesTheSameOutOfRangeValuesSayingTheRange(string field, string value)
    {
        var source = await _client.SourceAsync("Suspilne", "outlet", "C");
        var before = await StoredAsync(null);
        var json = field == "firstReportedOn"
            ? $$"""{"statement":"{{Story.Training}}","firstReportedOn":"{{value}}"}"""
            : $$"""{"statement":"{{Story.Training}}","evidence":[{"sourceId":"{{source}}","stance":"asserts","publishedAt":"{{value}}"}]}""";

        var problem = await (await _client.PostRawAsync("/claims", json)).ReadProblemAsync(HttpStatusCode.BadRequest);

        var path = field == "firstReportedOn" ? field : "evidence[0].publishedAt";
        // Values that no timestamp can hold fail as they are read, the rest when validated: both say the range.
        Assert.Contains("between 1900-01-01 and today", Assert.Single(problem.Errors(path)), StringComparison.Ordinal);
        Assert.Equal(before, await StoredAsync(null));
    }

    [Fact]
    public async Task TheFirstDayOfTheRangeIsStoredAndAnsweredAsSent()
    {
        var source = await _client.SourceAsync("Suspilne", "outlet", "C");

        var created = await (await _client.PostAsJsonAsync("/claims", new
        {
            statement = Story.Training,
            firstReportedOn = "1900-01-01",
            evidence = new[] { new { sourceId = source, stance = "asserts", publishedAt = "1900-01-01T00:00:00Z" } },
        })).ReadJsonAsync(HttpStatusCode.Created);

        var stored = await ReadAsync($"/claims/{created.Id()}");
        Assert.Equal("1900-01-01", stored.Str("firstReportedOn"));
        Assert.Equal("1900-01-01T00:00:00Z", stored.GetProperty("evidence")[0].Str("publishedAt"));
    }

    [Theory]
    [InlineData("updatedSince=0001-01-01T00:00:00Z", "updatedSince")]
    [InlineData("updatedSince=1899-12-31T23:59:59Z", "updatedSince")]
    [InlineData("reportedFrom=0001-01-01", "reportedFrom")]
    [InlineData("reportedTo=1899-12-31", "reportedTo")]
    public async Task AFilterBeforeTheEarliestDateIs400(string query, string field)
    {
        var problem = await (await _client.GetAsync($"/claims?{query}")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal("Must be on or after 1900-01-01.", Assert.Single(problem.Errors(field)));
    }

    /// <summary>The totals and, when given, one claim as stored: equal before and after means nothing was written.</summary>
    private async Task<string> StoredAsync(Guid? claim) =>
        (await ReadAsync("/stats")).GetRawText() + (claim is null ? "" : (await ReadAsync($"/claims/{claim}")).GetRawText());

    private static string Fill(string text, Guid claim, Guid source) =>
        text.Replace("{claim}", claim.ToString(), StringComparison.Ordinal).Replace("{source}", source.ToString(), StringComparison.Ordinal);

    private async Task<JsonElement> ReadAsync(string url) =>
        await (await _client.GetAsync(url)).ReadJsonAsync(HttpStatusCode.OK);

    private async Task<int> ClaimCountAsync() => (await _client.ReadAllPagesAsync("/claims?limit=200", maxPages: 50)).Count;
}
