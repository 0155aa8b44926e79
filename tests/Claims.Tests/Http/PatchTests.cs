using System.Net.Http.Headers;
using System.Text;
using Claims.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace Claims.Tests;

/// <summary>PATCH of claims and sources with a JSON Merge Patch (RFC 7396), guarded by If-Match like PUT.</summary>
public sealed class PatchTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const string MergePatch = "application/merge-patch+json";
    private const string Training = "North Korean soldiers are training in Russia.";

    /// <summary>Sends exactly the If-Match a test gives, or none.</summary>
    private readonly HttpClient _client = api.CreateClient(api.AdminKey, sendCurrentETag: false);

    // ---- What a patch changes --------------------------------------------------------------------

    [Fact]
    public async Task PatchingOneFieldOfAClaimChangesItAloneAndAnswersTheWholeClaimWithItsNewETag()
    {
        var source = await _client.SourceAsync("Lloyd Austin", "person");
        var id = await _client.ClaimAsync(Training, Story.Evidence(source, "asserts"));
        var before = await (await _client.GetAsync($"/claims/{id}")).ReadJsonAsync(HttpStatusCode.OK);

        var response = await PatchAsync($"/claims/{id}", """{"summary":"Said at a press briefing."}""", "\"1\"");

        var patched = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("\"2\"", response.Headers.ETag?.Tag);
        Assert.Equal("Said at a press briefing.", patched.Str("summary"));
        Assert.Equal(2, patched.GetProperty("version").GetInt32());
        foreach (var unchanged in new[] { "id", "statement", "language", "tags", "firstReportedOn", "status", "createdAt", "createdBy" })
        {
            Assert.Equal(before.GetProperty(unchanged).GetRawText(), patched.GetProperty(unchanged).GetRawText());
        }

        var read = await (await _client.GetAsync($"/claims/{id}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("Said at a press briefing.", read.Str("summary"));
        Assert.Equal(before.GetProperty("evidence").GetRawText(), read.GetProperty("evidence").GetRawText());
    }

    [Fact]
    public async Task NullRemovesAClaimsOptionalFieldsAndSetsItsLanguageBackToEnglish()
    {
        var created = await (await _client.PostAsJsonAsync("/claims", new
        {
            statement = "Північнокорейські військові навчаються в Росії.",
            summary = "Reported by Ukrainian intelligence.",
            language = "uk",
            tags = new[] { "north-korea" },
            firstReportedOn = "2024-10-23",
        })).ReadJsonAsync(HttpStatusCode.Created);

        var patched = await (await PatchAsync($"/claims/{created.Id()}", """{"summary":null,"language":null,"tags":null,"firstReportedOn":null}""", "\"1\""))
            .ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(JsonValueKind.Null, patched.GetProperty("summary").ValueKind);
        Assert.Equal(JsonValueKind.Null, patched.GetProperty("firstReportedOn").ValueKind);
        Assert.Equal("en", patched.Str("language"));
        Assert.Empty(patched.GetProperty("tags").EnumerateArray());
        Assert.Equal(created.Str("statement"), patched.Str("statement"));
    }

    [Fact]
    public async Task AnArrayInAPatchReplacesTheWholeArrayAsStored()
    {
        var id = await _client.ClaimAsync();

        var patched = await (await PatchAsync($"/claims/{id}", """{"tags":["Ukraine","kursk"," kursk "]}""", "\"1\"")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(["ukraine", "kursk"], patched.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task PatchingASourceChangesTheGivenFieldsAndNullRemovesTheOptionalOnes()
    {
        var created = await (await _client.PostAsJsonAsync("/sources", new
        {
            name = "Business Insdier",
            kind = "outlet",
            description = "US business news.",
            url = "https://www.businessinsider.com/",
            reliability = "B",
        })).ReadJsonAsync(HttpStatusCode.Created);
        var url = $"/sources/{created.Id()}";

        var renamed = await PatchAsync(url, """{"name":"Business Insider"}""", "\"1\"");
        var first = await renamed.ReadJsonAsync(HttpStatusCode.OK);
        var cleared = await (await PatchAsync(url, """{"description":null,"url":null,"reliability":null}""", "\"2\"")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("\"2\"", renamed.Headers.ETag?.Tag);
        Assert.Equal("Business Insider", first.Str("name"));
        Assert.Equal(("outlet", "US business news.", "https://www.businessinsider.com/", "B"),
            (first.Str("kind"), first.Str("description"), first.Str("url"), first.Str("reliability")));
        Assert.Equal("Business Insider", cleared.Str("name"));
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("description").ValueKind);
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("url").ValueKind);
        Assert.Equal("F", cleared.Str("reliability"));
        Assert.Equal(3, cleared.GetProperty("version").GetInt32());
    }

    [Theory]
    [InlineData("claims")]
    [InlineData("sources")]
    public async Task TheSamePatchSentAgainWithTheNewETagAnswersTheSameBodyAndETagAndWritesNothing(string resource)
    {
        var (url, patch) = resource == "claims"
            ? ($"/claims/{await _client.ClaimAsync()}", """{"summary":"Seen by two desks.","tags":["Russia","north-korea"]}""")
            : ($"/sources/{await _client.SourceAsync()}", """{"description":"Former US Secretary of Defense.","reliability":"A"}""");

        var first = await PatchAsync(url, patch, "\"1\"");
        var firstBody = await first.Content.ReadAsStringAsync();
        var again = await PatchAsync(url, patch, first.Headers.ETag!.Tag);
        var againBody = await again.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("\"2\"", again.Headers.ETag?.Tag);
        Assert.Equal(firstBody, againBody);
        Assert.Equal("\"2\"", (await _client.GetAsync(url)).Headers.ETag?.Tag);
    }

    // ---- Conditions, like PUT ----------------------------------------------------------------------

    [Theory]
    [InlineData("claims")]
    [InlineData("sources")]
    public async Task APatchWithoutIfMatchIs428AndChangesNothing(string resource)
    {
        var url = await UrlAsync(resource);

        var problem = await (await PatchAsync(url, $$"""{"{{OptionalField(resource)}}":"x"}""", null)).ReadProblemAsync(HttpStatusCode.PreconditionRequired);

        Assert.Equal("If-Match is required.", problem.Str("title"));
        Assert.Equal(1, (await (await _client.GetAsync(url)).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("version").GetInt32());
    }

    [Theory]
    [InlineData("claims")]
    [InlineData("sources")]
    public async Task APatchWithAStaleETagIs412NamingTheCurrentOneAndChangesNothing(string resource)
    {
        var url = await UrlAsync(resource);
        var field = OptionalField(resource);
        await (await PatchAsync(url, $$"""{"{{field}}":"first change"}""", "\"1\"")).ReadJsonAsync(HttpStatusCode.OK);

        var problem = await (await PatchAsync(url, $$"""{"{{field}}":"second change"}""", "\"1\"")).ReadProblemAsync(HttpStatusCode.PreconditionFailed);

        Assert.Equal("\"2\"", problem.Str("currentETag"));
        Assert.Equal("first change", (await (await _client.GetAsync(url)).ReadJsonAsync(HttpStatusCode.OK)).Str(field));
    }

    [Theory]
    [InlineData("claims")]
    [InlineData("sources")]
    public async Task APatchOfAnUnknownIdIs404Problem(string resource)
    {
        var id = Guid.CreateVersion7();

        var problem = await (await PatchAsync($"/{resource}/{id}", $$"""{"{{OptionalField(resource)}}":null}""", "\"1\"")).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Contains(id.ToString(), problem.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReaderKeyCannotPatchAndTheAnswerIs403ProblemThatChangesNothing()
    {
        var id = await _client.ClaimAsync();
        var reader = (await (await _client.PostAsJsonAsync("/admin/keys", new { name = "patch reader", role = "reader" })).ReadJsonAsync(HttpStatusCode.Created)).Str("key");
        using var client = api.CreateClient(reader, sendCurrentETag: false);

        var problem = await (await PatchAsync($"/claims/{id}", """{"summary":"x"}""", "\"1\"", client: client)).ReadProblemAsync(HttpStatusCode.Forbidden);

        Assert.Contains("reporter", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, (await (await _client.GetAsync($"/claims/{id}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("summary").ValueKind);
    }

    // ---- Bodies refused ----------------------------------------------------------------------------

    [Theory]
    [InlineData("claims", "application/json")]
    [InlineData("sources", "application/json")]
    [InlineData("claims", "text/plain")]
    [InlineData("claims", "application/merge-patch+json; charset=utf-16")]
    public async Task APatchSentAsAnotherContentTypeIs415SayingToUseMergePatch(string resource, string contentType)
    {
        var url = await UrlAsync(resource);
        var request = new HttpRequestMessage(HttpMethod.Patch, url) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"{{OptionalField(resource)}}":null}""")) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        request.Headers.TryAddWithoutValidation("If-Match", "\"1\"");

        var problem = await (await _client.SendAsync(request)).ReadProblemAsync(HttpStatusCode.UnsupportedMediaType);

        Assert.True(problem.TryGetProperty("detail", out var detail), problem.ToString());
        Assert.Contains(MergePatch, detail.GetString(), StringComparison.Ordinal);
        Assert.Equal(1, (await (await _client.GetAsync(url)).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task APatchWithoutABodyOrContentTypeIs415()
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/claims/{await _client.ClaimAsync()}");
        request.Headers.TryAddWithoutValidation("If-Match", "\"1\"");

        var problem = await (await _client.SendAsync(request)).ReadProblemAsync(HttpStatusCode.UnsupportedMediaType);

        Assert.Contains(MergePatch, problem.Str("detail"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("claims", """{"status":"confirmed","version":7,"id":"0192b8a0-5000-7000-8000-000000000001","summary":"x"}""", new[] { "status", "version", "id" })]
    [InlineData("claims", """{"evidence":[],"createdAt":"2024-10-23T00:00:00Z","statusNote":null}""", new[] { "evidence", "createdAt", "statusNote" })]
    [InlineData("sources", """{"createdBy":"me","updatedAt":"2024-10-23T00:00:00Z","name":"x"}""", new[] { "createdBy", "updatedAt" })]
    public async Task ReadOnlyMembersAre400NamingEachAndChangeNothing(string resource, string patch, string[] named)
    {
        var url = await UrlAsync(resource);

        var problem = await (await PatchAsync(url, patch, "\"1\"")).ReadProblemAsync(HttpStatusCode.BadRequest);

        foreach (var member in named)
        {
            Assert.StartsWith("Read-only", Assert.Single(problem.Errors(member)), StringComparison.Ordinal);
        }

        Assert.Equal(named.Length, problem.GetProperty("errors").EnumerateObject().Count());
        Assert.Equal(1, (await (await _client.GetAsync(url)).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task UnknownMembersAre400NamingThemAndAWrongCaseIsPointedOut()
    {
        var url = await UrlAsync("claims");

        var problem = await (await PatchAsync(url, """{"colour":"red","Summary":"x"}""", "\"1\"")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains("statement, summary, language, tags, firstReportedOn", Assert.Single(problem.Errors("colour")), StringComparison.Ordinal);
        Assert.Contains("did you mean 'summary'", Assert.Single(problem.Errors("Summary")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("claims", """{"statement":null}""", "statement")]
    [InlineData("sources", """{"name":null}""", "name")]
    [InlineData("sources", """{"kind":null}""", "kind")]
    public async Task NullOnARequiredFieldIs400NamingIt(string resource, string patch, string field)
    {
        var url = await UrlAsync(resource);

        var problem = await (await PatchAsync(url, patch, "\"1\"")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains("cannot be removed", Assert.Single(problem.Errors(field)), StringComparison.Ordinal);
        Assert.Equal(1, (await (await _client.GetAsync(url)).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("version").GetInt32());
    }

    [Theory]
    [InlineData("claims", """{"statement":""}""", "statement", "Required")]
    [InlineData("claims", """{"statement":"\u200B "}""", "statement", "Required")]
    [InlineData("claims", """{"tags":["north-korea","Not A Slug!"]}""", "tags[1]", "slug")]
    [InlineData("claims", """{"firstReportedOn":"1899-12-31"}""", "firstReportedOn", "1900-01-01")]
    [InlineData("sources", """{"url":"ftp://example.org/"}""", "url", "http")]
    public async Task APatchWhoseResultBreaksTheRulesOfPutIs400NamingTheFieldAndChangesNothing(string resource, string patch, string field, string message)
    {
        var url = await UrlAsync(resource);

        var problem = await (await PatchAsync(url, patch, "\"1\"")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors(field), m => m.Contains(message, StringComparison.Ordinal));
        Assert.Equal(1, (await (await _client.GetAsync(url)).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("version").GetInt32());
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[{\"summary\":\"x\"}]")]
    [InlineData("\"summary\"")]
    [InlineData("42")]
    [InlineData("null")]
    public async Task ABodyThatIsNotAJsonObjectIs400(string body)
    {
        var problem = await (await PatchAsync(await UrlAsync("claims"), body, "\"1\"")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.StartsWith("Must be a JSON object", Assert.Single(problem.Errors("body")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"summary":"x",""", "body", "")]
    [InlineData("""{"tags":"north-korea"}""", "tags", "Must be an array.")]
    [InlineData("""{"firstReportedOn":20241023}""", "firstReportedOn", "ISO 8601 date")]
    [InlineData("""{"summary":"a","summary":"b"}""", "body", "'summary' appears more than once")]
    public async Task ABodyThatIsNotValidJsonOrHasAWrongTypeIs400NamingWhere(string body, string field, string message)
    {
        var problem = await (await PatchAsync(await UrlAsync("claims"), body, "\"1\"")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(message, Assert.Single(problem.Errors(field)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThousandsOfUnknownMembersGetASmallAnswerListingTheFirstFifty()
    {
        var body = "{" + string.Join(',', Enumerable.Range(0, 5_000).Select(i => $"\"p{i}\":1")) + "}";

        var problem = await (await PatchAsync(await UrlAsync("sources"), body, "\"1\"")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal(50, problem.GetProperty("errors").EnumerateObject().Count());
        Assert.Equal(4_950, problem.GetProperty("omittedErrors").GetInt32());
    }

    // ---- The document and browsers -----------------------------------------------------------------

    [Theory]
    [InlineData("/claims/{id}", "ClaimPatch", "statement", "summary")]
    [InlineData("/sources/{id}", "SourcePatch", "name", "description")]
    public async Task TheDocumentDeclaresTheMergePatchBodyWithAllFieldsOptionalAndNullableWhereNullRemoves(string path, string schema, string required, string optional)
    {
        var document = await (await _client.GetAsync("/swagger/v1/swagger.json")).ReadJsonAsync(HttpStatusCode.OK);
        var operation = document.GetProperty("paths").GetProperty(path).GetProperty("patch");

        var content = operation.GetProperty("requestBody").GetProperty("content");
        Assert.Equal([MergePatch], content.EnumerateObject().Select(c => c.Name));
        Assert.Equal($"#/components/schemas/{schema}", content.GetProperty(MergePatch).GetProperty("schema").GetProperty("$ref").GetString());
        foreach (var status in new[] { "200", "400", "404", "412", "415", "428" })
        {
            Assert.True(operation.GetProperty("responses").TryGetProperty(status, out _), $"PATCH {path} does not declare {status}.");
        }

        var definition = document.GetProperty("components").GetProperty("schemas").GetProperty(schema);
        Assert.False(definition.TryGetProperty("required", out var requiredList) && requiredList.GetArrayLength() > 0, $"{schema} requires {requiredList}.");
        Assert.False(AllowsNull(definition.GetProperty("properties").GetProperty(required)), $"{schema}.{required} allows null.");
        Assert.True(AllowsNull(definition.GetProperty("properties").GetProperty(optional)), $"{schema}.{optional} does not allow null.");
    }

    [Fact]
    public async Task ABrowserPageOfAConfiguredOriginMayPatch()
    {
        await using var cors = api.WithWebHostBuilder(builder => builder.UseSetting("Cors:AllowedOrigins:0", "https://desk.example.org"));
        using var client = cors.CreateClient();
        var preflight = new HttpRequestMessage(HttpMethod.Options, $"/claims/{Guid.CreateVersion7()}");
        preflight.Headers.Add("Origin", "https://desk.example.org");
        preflight.Headers.Add("Access-Control-Request-Method", "PATCH");
        preflight.Headers.Add("Access-Control-Request-Headers", "x-api-key, content-type, if-match");

        var answer = await client.SendAsync(preflight);

        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Contains("PATCH", string.Join(",", answer.Headers.GetValues("Access-Control-Allow-Methods")), StringComparison.Ordinal);
    }

    // ---- Helpers -----------------------------------------------------------------------------------

    private Task<HttpResponseMessage> PatchAsync(string url, string json, string? ifMatch, HttpClient? client = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, url) { Content = new StringContent(json, new MediaTypeHeaderValue(MergePatch)) };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return (client ?? _client).SendAsync(request);
    }

    private async Task<string> UrlAsync(string resource) =>
        resource == "claims" ? $"/claims/{await _client.ClaimAsync()}" : $"/sources/{await _client.SourceAsync()}";

    private static string OptionalField(string resource) => resource == "claims" ? "summary" : "description";

    /// <summary>OpenAPI 3.0 says nullable: true; 3.1 puts "null" among the types.</summary>
    private static bool AllowsNull(JsonElement schema) =>
        (schema.TryGetProperty("nullable", out var nullable) && nullable.GetBoolean())
        || (schema.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.Array && type.EnumerateArray().Any(t => t.GetString() == "null"))
        || (schema.TryGetProperty("oneOf", out var oneOf) && oneOf.EnumerateArray().Any(AllowsNull))
        || (schema.TryGetProperty("anyOf", out var anyOf) && anyOf.EnumerateArray().Any(AllowsNull));
}
