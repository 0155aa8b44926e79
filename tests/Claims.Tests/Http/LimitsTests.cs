using System.Net.Http.Headers;
using System.Text;
using Claims.Hostile;
using Claims.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Claims.Tests;

/// <summary>
/// The limits a client can run into: body size (413), media type (415), strict JSON (unknown
/// properties are 400), per-key request rates (429 with Retry-After), and the maximums the OpenAPI
/// document promises. Tests of one class run one after another, so comparing the stored data
/// before and after a refused request is safe here.
/// </summary>
public sealed class LimitsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const int MaxBodyBytes = 256 * 1024;

    private readonly HttpClient _client = api.CreateClient();

    // ---- 413: bodies over 256 KB -------------------------------------------------------------

    [Theory]
    [InlineData("POST", "/claims")]
    [InlineData("POST", "/sources")]
    [InlineData("PUT", "/claims/{claim}")]
    [InlineData("PUT", "/sources/{source}")]
    [InlineData("POST", "/claims/{claim}/evidence")]
    [InlineData("PUT", "/claims/{claim}/status")]
    [InlineData("POST", "/claims/statuses")]
    [InlineData("POST", "/admin/keys")]
    public async Task ABodyOverTheLimitIs413ProblemAndStoresNothing(string method, string url)
    {
        var (claim, source) = await ClaimAndSourceAsync();
        var before = await SnapshotAsync(claim, source);
        var request = new HttpRequestMessage(new HttpMethod(method), Fill(url, claim, source))
        {
            Content = JsonOfExactly(MaxBodyBytes + 1, "note"),
        };

        var response = await _client.SendAsync(request);

        var problem = await response.ReadProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("The request body is too large.", problem.Str("title"));
        Assert.Contains("256 KB", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync(claim, source));
    }

    [Theory]
    [InlineData(MaxBodyBytes, HttpStatusCode.BadRequest)]
    [InlineData(MaxBodyBytes + 1, HttpStatusCode.RequestEntityTooLarge)]
    public async Task TheBodyLimitIsExactly256KB(int bytes, HttpStatusCode expected)
    {
        var response = await _client.PostAsync("/claims", JsonOfExactly(bytes, "statement"));

        var problem = await response.ReadProblemAsync(expected);
        if (expected == HttpStatusCode.BadRequest)
        {
            // Read and validated: refused for the statement's length, not for the body's size.
            Assert.Contains(problem.Errors("statement"), m => m.Contains("2000", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task AStreamedBodyWithoutADeclaredLengthIsCutOffAt256KBWith413Problem()
    {
        // Only a real server enforces the limit on a body that declares no length, so this one
        // runs the app on Kestrel and sends the body chunked.
        await using var kestrel = api.WithWebHostBuilder(_ => { });
        kestrel.UseKestrel();
        kestrel.StartServer();
        // Without redirects and cookies the client does not buffer the body, so it goes chunked.
        var address = kestrel.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var client = kestrel.CreateClient(new WebApplicationFactoryClientOptions
        {
            BaseAddress = new Uri(address),
            AllowAutoRedirect = false,
            HandleCookies = false,
        });
        client.DefaultRequestHeaders.Add("X-Api-Key", api.AdminKey);
        var before = await (await client.GetAsync("/stats")).ReadJsonAsync(HttpStatusCode.OK);
        var json = Encoding.UTF8.GetBytes($$"""{"statement":"{{new string('a', MaxBodyBytes + 50_000)}}"}""");
        var content = new UnknownLengthContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await client.PostAsync("/claims", content);

        Assert.Null(response.RequestMessage?.Content?.Headers.ContentLength);
        var problem = await response.ReadProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.DoesNotContain("errors", problem.EnumerateObject().Select(p => p.Name));
        var after = await (await client.GetAsync("/stats")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(before.GetRawText(), after.GetRawText());
    }

    [Fact]
    public async Task EveryOperationThatReadsABodyDocumentsThe413ItAnswersWith()
    {
        var document = await DocumentAsync();

        var undocumented = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(op => (Name: $"{op.Name.ToUpperInvariant()} {path.Name}", Operation: op.Value)))
            .Where(op => op.Operation.TryGetProperty("requestBody", out _) && !op.Operation.GetProperty("responses").TryGetProperty("413", out _))
            .Select(op => op.Name)
            .ToList();

        Assert.True(undocumented.Count == 0, $"These operations answer 413 to a body over 256 KB but do not document it: {string.Join(", ", undocumented)}");
    }

    // ---- 415: bodies that are not JSON -------------------------------------------------------

    [Theory]
    [InlineData("POST", "/claims", "text/plain")]
    [InlineData("POST", "/claims", "application/xml")]
    [InlineData("POST", "/claims", "multipart/form-data; boundary=x")]
    [InlineData("POST", "/claims", null)]
    [InlineData("POST", "/sources", "application/x-www-form-urlencoded")]
    [InlineData("PUT", "/claims/{claim}", "text/plain")]
    [InlineData("PUT", "/sources/{source}", "text/html")]
    [InlineData("POST", "/claims/{claim}/evidence", "text/plain")]
    [InlineData("PUT", "/claims/{claim}/status", "application/octet-stream")]
    [InlineData("POST", "/claims/statuses", "text/plain")]
    [InlineData("POST", "/admin/keys", "text/csv")]
    public async Task ABodyThatIsNotJsonIs415ProblemAndStoresNothing(string method, string url, string? contentType)
    {
        var (claim, source) = await ClaimAndSourceAsync();
        var before = await SnapshotAsync(claim, source);
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"statement":"{{Story.Training}}","name":"Suspilne","kind":"outlet"}"""));
        if (contentType is not null)
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), Fill(url, claim, source)) { Content = content });

        var problem = await response.ReadProblemAsync(HttpStatusCode.UnsupportedMediaType);
        Assert.Equal("/problems/unsupported-media-type", problem.Str("type"));
        Assert.Equal(before, await SnapshotAsync(claim, source));
    }

    [Theory]
    [InlineData("application/json; charset=foo")]
    [InlineData("application/json; charset=")]
    [InlineData("application/json; charset=x-unknown-8")]
    public async Task AJsonBodyInACharsetTheApiCannotReadIs415ProblemAndStoresNothing(string contentType)
    {
        var (claim, source) = await ClaimAndSourceAsync();
        var before = await SnapshotAsync(claim, source);
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"statement":"{{Story.Training}}"}"""));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        var response = await _client.PostAsync("/claims", content);

        var problem = await response.ReadProblemAsync(HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("UTF-8", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync(claim, source));
    }

    // ---- 400: unknown JSON properties ----------------------------------------------------------

    [Theory]
    [InlineData("POST", "/claims", """{"statement":"North Korean soldiers are training in Russia.","status":"confirmed"}""", "status", "status")]
    [InlineData("POST", "/claims", """{"id":"0192b8a0-5000-7000-8000-000000000001","statement":"North Korean soldiers are training in Russia."}""", "id", "id")]
    [InlineData("POST", "/claims", """{"statement":"North Korean soldiers are training in Russia.","version":7}""", "version", "version")]
    [InlineData("POST", "/claims", """{"statement":"North Korean soldiers are training in Russia.","createdBy":"someone else"}""", "createdBy", "createdBy")]
    [InlineData("POST", "/claims", """{"statement":"North Korean soldiers are training in Russia.","evidence":[{"sourceId":"{source}","stance":"asserts","credibilty":2}]}""", "evidence[0].credibilty", "credibilty")]
    [InlineData("POST", "/claims", """{"statement":"North Korean soldiers are training in Russia.","evidence":[{"sourceId":"{source}","stance":"asserts"},{"sourceId":"{source}","stance":"supports","id":"0192b8a0-5000-7000-8000-000000000001"}]}""", "evidence[1].id", "id")]
    [InlineData("PUT", "/claims/{claim}", """{"statement":"North Korean soldiers are training in Russia.","status":"confirmed"}""", "status", "status")]
    [InlineData("PUT", "/claims/{claim}", """{"statement":"North Korean soldiers are training in Russia.","evidence":[]}""", "evidence", "evidence")]
    [InlineData("POST", "/sources", """{"name":"Suspilne","kind":"outlet","id":"0192b8a0-5000-7000-8000-000000000001"}""", "id", "id")]
    [InlineData("PUT", "/sources/{source}", """{"name":"Suspilne","kind":"outlet","version":5}""", "version", "version")]
    [InlineData("POST", "/claims/{claim}/evidence", """{"sourceId":"{source}","stance":"supports","claimId":"{claim}"}""", "claimId", "claimId")]
    [InlineData("PUT", "/claims/{claim}/status", """{"status":"in_review","note":"Seeking a second source.","changedBy":"me"}""", "changedBy", "changedBy")]
    [InlineData("POST", "/claims/statuses", """{"ids":["{claim}"],"limit":5}""", "limit", "limit")]
    [InlineData("POST", "/admin/keys", """{"name":"desk","role":"reader","key":"clm_my_own_secret"}""", "key", "key")]
    public async Task AnUnknownPropertyIs400NamingItAndStoresNothing(string method, string url, string json, string path, string property)
    {
        var (claim, source) = await ClaimAndSourceAsync();
        var before = await SnapshotAsync(claim, source);
        var request = new HttpRequestMessage(new HttpMethod(method), Fill(url, claim, source))
        {
            Content = new StringContent(Fill(json, claim, source), new MediaTypeHeaderValue("application/json")),
        };

        var problem = await (await _client.SendAsync(request)).ReadProblemAsync(HttpStatusCode.BadRequest);

        var messages = problem.Errors(path);
        Assert.Contains(messages, m => m.Contains($"'{property}'", StringComparison.Ordinal));
        Assert.Equal(new[] { path }, problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        Assert.Equal(before, await SnapshotAsync(claim, source));
    }

    // ---- Bounded work and answers for bodies within the limit ------------------------------------

    public static TheoryData<string, string, string, string> CollectionsFarOverTheirLimit() => new()
    {
        // 40,000 empty evidence items: 80,000 errors if each were checked.
        { "POST", "/claims", "{\"statement\":\"North Korean soldiers are training in Russia.\",\"evidence\":[" + string.Join(',', Enumerable.Repeat("{}", 40_000)) + "]}", "evidence" },
        { "POST", "/claims", "{\"statement\":\"North Korean soldiers are training in Russia.\",\"tags\":[" + string.Join(',', Enumerable.Repeat("\"!\"", 40_000)) + "]}", "tags" },
        { "PUT", "/claims/{claim}", "{\"statement\":\"North Korean soldiers are training in Russia.\",\"tags\":[" + string.Join(',', Enumerable.Repeat("\"a\"", 40_000)) + "]}", "tags" },
        { "POST", "/claims/statuses", "{\"ids\":[" + string.Join(',', Enumerable.Repeat("\"0192b8a0-5000-7000-8000-000000000001\"", 6_000)) + "]}", "ids" },
    };

    [Theory]
    [MemberData(nameof(CollectionsFarOverTheirLimit))]
    public async Task ACollectionFarOverItsLimitIsRefusedForItsCountAloneInASmallAnswer(string method, string url, string json, string field)
    {
        var (claim, source) = await ClaimAndSourceAsync();
        var before = await SnapshotAsync(claim, source);
        Assert.True(Encoding.UTF8.GetByteCount(json) <= MaxBodyBytes, "The body must be within the size limit for this test to mean anything.");

        var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), Fill(url, claim, source))
        {
            Content = new StringContent(json, new MediaTypeHeaderValue("application/json")),
        });

        var text = await response.Content.ReadAsStringAsync();
        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(text.Length < 1_000, $"A {text.Length}-character answer to a refused count: {text[..Math.Min(text.Length, 300)]}");
        Assert.Equal([field], problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        Assert.EndsWith(" were sent.", Assert.Single(problem.Errors(field)), StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync(claim, source));
    }

    [Fact]
    public async Task EveryWorstCaseBodyOfEveryWritableEndpointGetsItsSmallAnswerAndStoresNothing()
    {
        var (claim, source) = await ClaimAndSourceAsync();
        var before = await SnapshotAsync(claim, source);
        var client = api.CreateClient(api.AdminKey, sendCurrentETag: false);
        var failures = new List<string>();

        foreach (var hostile in WorstCaseBodies.All(claim, source))
        {
            Assert.True(Encoding.UTF8.GetByteCount(hostile.Body) <= MaxBodyBytes, $"{hostile.Name}: the body is over the limit.");
            using var response = await client.SendAsync(hostile.ToMessage());
            var text = await response.Content.ReadAsStringAsync();
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            // Fifty errors of a hundred-odd characters each are the most a refusal lists; an
            // answer to the largest allowed batch of ids is the largest success.
            var bound = hostile.Expected == HttpStatusCode.OK ? 40_000 : 12_000;
            if (response.StatusCode != hostile.Expected || text.Length > bound
                || mediaType != (hostile.Expected == HttpStatusCode.OK ? "application/json" : "application/problem+json"))
            {
                failures.Add($"{hostile.Name}: {(int)response.StatusCode} {mediaType}, {text.Length} characters: {text[..Math.Min(300, text.Length)]}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.Equal(before, await SnapshotAsync(claim, source));
    }

    [Fact]
    public async Task AnAnswerListsTheFirst50ErrorsAndCountsTheRest()
    {
        // No statement (1 error) and 50 empty evidence items (a missing sourceId and stance each): 101 errors.
        var json = "{\"evidence\":[" + string.Join(',', Enumerable.Repeat("{}", 50)) + "]}";

        var problem = await (await _client.PostRawAsync("/claims", json)).ReadProblemAsync(HttpStatusCode.BadRequest);

        var listed = problem.GetProperty("errors").EnumerateObject().Sum(e => e.Value.GetArrayLength());
        Assert.Equal(50, listed);
        Assert.Equal(51, problem.GetProperty("omittedErrors").GetInt32());
        Assert.Equal("The first 50 of 101 errors are listed; fix them and send the request again to see the rest.", problem.Str("detail"));
        Assert.NotEmpty(problem.Errors("statement"));
        Assert.NotEmpty(problem.Errors("evidence[0].sourceId"));
    }

    [Fact]
    public async Task AnAnswerWithFewErrorsListsThemAllWithoutACount()
    {
        var problem = await (await _client.PostRawAsync("/claims", """{"evidence":[{}]}""")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal(3, problem.GetProperty("errors").EnumerateObject().Sum(e => e.Value.GetArrayLength()));
        Assert.False(problem.TryGetProperty("omittedErrors", out _));
    }

    // ---- What the web server refuses before the application ------------------------------------

    [Theory]
    [InlineData("url", 8 * 1024, HttpStatusCode.RequestUriTooLong)]
    [InlineData("header", 33 * 1024, HttpStatusCode.RequestHeaderFieldsTooLarge)]
    [InlineData("headers", 101, HttpStatusCode.RequestHeaderFieldsTooLarge)]
    public async Task TheServerRefusesRequestsOverItsDocumentedLimitsBeforeTheApplication(string part, int size, HttpStatusCode expected)
    {
        await using var kestrel = api.WithWebHostBuilder(_ => { });
        kestrel.UseKestrel();
        kestrel.StartServer();
        using var client = new HttpClient { BaseAddress = new Uri(kestrel.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
        client.DefaultRequestHeaders.Add("X-Api-Key", api.AdminKey);
        var request = new HttpRequestMessage(HttpMethod.Get, part == "url" ? "/claims?q=" + new string('a', size) : "/claims");
        if (part == "header")
        {
            request.Headers.Add("X-Note", new string('a', size));
        }
        else if (part == "headers")
        {
            for (var i = 0; i < size; i++)
            {
                request.Headers.Add($"X-Note-{i}", "a");
            }
        }

        var response = await client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        Assert.False(response.Headers.Contains("Server"), "The server names itself.");
        // Just under the limits the application answers, as a problem: q is at most 500 characters.
        var within = await client.GetAsync("/claims?q=" + new string('a', 7 * 1024));
        Assert.Contains("500", Assert.Single((await within.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors("q")), StringComparison.Ordinal);
        Assert.False(within.Headers.Contains("Server"), "The server names itself.");
    }

    // ---- 429: per-key rate limits ----------------------------------------------------------------

    [Fact]
    public async Task AKeyThatUsedUpItsRequestsGets429WithRetryAfterWhileAnotherKeyIsStillServed()
    {
        await using var limited = Limited(requestsPerMinute: 5, writesPerMinute: 0);
        using var admin = Client(limited, api.AdminKey);
        var other = await CreateKeyAsync(admin, "second desk", "reader");
        using var second = Client(limited, other);

        var rejected = await ExhaustAsync(admin, () => admin.GetAsync("/claims"));

        await AssertTooManyRequestsAsync(rejected);
        await (await second.GetAsync("/claims")).ReadJsonAsync(HttpStatusCode.OK);
        await (await second.GetAsync("/stats")).ReadJsonAsync(HttpStatusCode.OK);
        await AssertTooManyRequestsAsync(await admin.GetAsync("/stats"));
    }

    [Fact]
    public async Task WritesHaveTheirOwnLowerLimitThatLeavesReadsAndOtherKeysAlone()
    {
        await using var limited = Limited(requestsPerMinute: 100, writesPerMinute: 3);
        using var admin = Client(limited, api.AdminKey);
        var other = await CreateKeyAsync(admin, "second desk", "reporter");
        using var second = Client(limited, other);
        var sourcesBefore = (await (await admin.GetAsync("/stats")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("sources").GetInt64();
        var created = 0;

        var rejected = await ExhaustAsync(admin, async () =>
        {
            var response = await admin.PostAsJsonAsync("/sources", new { name = "Suspilne", kind = "outlet" });
            created += response.StatusCode == HttpStatusCode.Created ? 1 : 0;
            return response;
        });

        await AssertTooManyRequestsAsync(rejected);
        Assert.InRange(created, 1, 2 * 3);
        // Reads, including the batch look-up that is a POST, still pass for the same key.
        await (await admin.GetAsync("/claims")).ReadJsonAsync(HttpStatusCode.OK);
        await (await admin.PostAsJsonAsync("/claims/statuses", new { ids = new[] { Guid.CreateVersion7() } })).ReadJsonAsync(HttpStatusCode.OK);
        // Another key still writes.
        await (await second.PostAsJsonAsync("/sources", new { name = "Hromadske", kind = "outlet" })).ReadJsonAsync(HttpStatusCode.Created);
        // The refused write stored nothing: only the acknowledged ones and the other key's are there.
        var sourcesAfter = (await (await second.GetAsync("/stats")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("sources").GetInt64();
        Assert.Equal(sourcesBefore + created + 1, sourcesAfter);
    }

    [Fact]
    public async Task ZeroTurnsALimitOffWhileTheOtherStillApplies()
    {
        await using var limited = Limited(requestsPerMinute: 0, writesPerMinute: 2);
        using var admin = Client(limited, api.AdminKey);

        for (var i = 0; i < 30; i++)
        {
            await (await admin.GetAsync("/claims?limit=1")).ReadJsonAsync(HttpStatusCode.OK);
        }

        var rejected = await ExhaustAsync(admin, () => admin.PostAsJsonAsync("/sources", new { name = "Suspilne", kind = "outlet" }));
        await AssertTooManyRequestsAsync(rejected);
        await (await admin.GetAsync("/claims?limit=1")).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ACallerWithoutAKeyWhoseAddressUsedUpItsAllowanceIsToldSoInWordsThatFit()
    {
        await using var limited = Limited(requestsPerMinute: 3, writesPerMinute: 0);
        using var anonymous = limited.CreateClient();

        var rejected = await ExhaustAsync(anonymous, () => anonymous.GetAsync("/claims"), HttpStatusCode.Unauthorized);

        await AssertTooManyRequestsAsync(rejected);
        var detail = (await rejected.ReadProblemAsync(HttpStatusCode.TooManyRequests)).Str("detail");
        Assert.StartsWith("Callers without an API key share one allowance per address", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("key has used up", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AKeyThatUsedUpItsAllowanceIsToldSoByName()
    {
        await using var limited = Limited(requestsPerMinute: 3, writesPerMinute: 0);
        using var admin = Client(limited, api.AdminKey);

        var rejected = await ExhaustAsync(admin, () => admin.GetAsync("/claims"));

        Assert.StartsWith("The key 'bootstrap-admin' has used up its requests for now.", (await rejected.ReadProblemAsync(HttpStatusCode.TooManyRequests)).Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LivenessIsNeverRateLimited()
    {
        await using var limited = Limited(requestsPerMinute: 2, writesPerMinute: 1);
        using var admin = Client(limited, api.AdminKey);
        using var anonymous = limited.CreateClient();
        await AssertTooManyRequestsAsync(await ExhaustAsync(admin, () => admin.GetAsync("/claims")));
        await AssertTooManyRequestsAsync(await ExhaustAsync(anonymous, () => anonymous.GetAsync("/claims"), HttpStatusCode.Unauthorized));

        for (var i = 0; i < 20; i++)
        {
            foreach (var client in new[] { admin, anonymous })
            {
                var live = await client.GetAsync("/health/live");
                Assert.Equal("Healthy", (await live.ReadJsonAsync(HttpStatusCode.OK)).Str("status"));
            }
        }

        await AssertTooManyRequestsAsync(await admin.GetAsync("/claims"));
    }

    // ---- Extreme values the API accepts -------------------------------------------------------

    [Fact]
    public async Task ClaimsFirstReportedOnTheEarliestDateArePagedOnceEachBySortFirstReportedOn()
    {
        var tag = "earliest-" + Guid.NewGuid().ToString("N");
        var created = new HashSet<Guid>();
        // Two claims without a date and two tied on the earliest date the API accepts.
        foreach (var firstReportedOn in new string?[] { null, null, "1900-01-01", "1900-01-01" })
        {
            var response = await _client.PostAsJsonAsync("/claims", new { statement = Story.Training, tags = new[] { tag }, firstReportedOn });
            created.Add((await response.ReadJsonAsync(HttpStatusCode.Created)).Id());
        }

        // Ten pages of one claim are more than four claims need: a cursor that loops fails the bound.
        var listed = await _client.ReadAllPagesAsync($"/claims?tag={tag}&sort=-firstReportedOn&limit=1", maxPages: 10);

        Assert.Equal(created.Order(), listed.Select(c => c.Id()).Order());
    }

    // ---- Maximums in the OpenAPI document ------------------------------------------------------

    [Theory]
    [InlineData("CreateClaimRequest", "statement", "maxLength", 2000)]
    [InlineData("CreateClaimRequest", "summary", "maxLength", 4000)]
    [InlineData("CreateClaimRequest", "language", "maxLength", 35)]
    [InlineData("CreateClaimRequest", "tags", "maxItems", 20)]
    [InlineData("CreateClaimRequest", "evidence", "maxItems", 50)]
    [InlineData("ClaimRequest", "statement", "maxLength", 2000)]
    [InlineData("ClaimRequest", "summary", "maxLength", 4000)]
    [InlineData("ClaimRequest", "language", "maxLength", 35)]
    [InlineData("ClaimRequest", "tags", "maxItems", 20)]
    [InlineData("EvidenceRequest", "quote", "maxLength", 4000)]
    [InlineData("EvidenceRequest", "url", "maxLength", 2048)]
    [InlineData("EvidenceRequest", "note", "maxLength", 2000)]
    [InlineData("EvidenceRequest", "credibility", "maximum", 6)]
    [InlineData("SourceRequest", "name", "maxLength", 200)]
    [InlineData("SourceRequest", "description", "maxLength", 2000)]
    [InlineData("SourceRequest", "url", "maxLength", 2048)]
    [InlineData("StatusChangeRequest", "note", "maxLength", 2000)]
    [InlineData("StatusesRequest", "ids", "maxItems", 500)]
    [InlineData("ApiKeyRequest", "name", "maxLength", 100)]
    public async Task RequestSchemasDeclareTheirMaximums(string schema, string property, string keyword, int value)
    {
        var document = await DocumentAsync();

        var definition = document.GetProperty("components").GetProperty("schemas").GetProperty(schema).GetProperty("properties").GetProperty(property);

        Assert.True(definition.TryGetProperty(keyword, out var declared), $"{schema}.{property} declares no {keyword}: {definition}");
        Assert.Equal(value, declared.GetInt32());
    }

    [Theory]
    [InlineData("CreateClaimRequest")]
    [InlineData("ClaimRequest")]
    public async Task EachTagDeclaresItsFiftyCharacterLimit(string schema)
    {
        var document = await DocumentAsync();

        var items = document.GetProperty("components").GetProperty("schemas").GetProperty(schema)
            .GetProperty("properties").GetProperty("tags").GetProperty("items");

        Assert.True(items.TryGetProperty("maxLength", out var declared),
            $"{schema}.tags items declare no maxLength, though each tag is limited to 50 characters: {items}");
        Assert.Equal(50, declared.GetInt32());
    }

    [Theory]
    [InlineData("/claims", "limit", "maximum", 200)]
    [InlineData("/claims", "q", "maxLength", 500)]
    [InlineData("/claims/similar", "limit", "maximum", 50)]
    [InlineData("/claims/similar", "text", "maxLength", 2000)]
    [InlineData("/sources", "limit", "maximum", 200)]
    [InlineData("/sources", "q", "maxLength", 200)]
    [InlineData("/claims/{id}/evidence", "limit", "maximum", 200)]
    [InlineData("/claims/{id}/history", "limit", "maximum", 200)]
    [InlineData("/sources/{id}/claims", "limit", "maximum", 200)]
    [InlineData("/admin/keys", "limit", "maximum", 200)]
    public async Task QueryParametersDeclareTheirMaximums(string path, string parameter, string keyword, int value)
    {
        var document = await DocumentAsync();

        var schema = document.GetProperty("paths").GetProperty(path).GetProperty("get").GetProperty("parameters").EnumerateArray()
            .Single(p => p.Str("name") == parameter).GetProperty("schema");

        Assert.True(schema.TryGetProperty(keyword, out var declared), $"GET {path} ?{parameter} declares no {keyword}: {schema}");
        Assert.Equal(value, declared.GetInt32());
    }

    [Theory]
    [InlineData("CreateClaimRequest", "statement", "/claims")]
    [InlineData("CreateClaimRequest", "summary", "/claims")]
    [InlineData("CreateClaimRequest", "tags", "/claims")]
    [InlineData("CreateClaimRequest", "evidence", "/claims")]
    [InlineData("SourceRequest", "name", "/sources")]
    [InlineData("SourceRequest", "description", "/sources")]
    [InlineData("SourceRequest", "url", "/sources")]
    [InlineData("StatusesRequest", "ids", "/claims/statuses")]
    [InlineData("ApiKeyRequest", "name", "/admin/keys")]
    public async Task OneOverADocumentedMaximumIs400NamingTheField(string schema, string property, string url)
    {
        var definition = (await DocumentAsync()).GetProperty("components").GetProperty("schemas").GetProperty(schema).GetProperty("properties").GetProperty(property);
        var (maximum, isArray) = definition.TryGetProperty("maxItems", out var items) ? (items.GetInt32(), true) : (definition.GetProperty("maxLength").GetInt32(), false);
        var body = BaseBody(url);
        body[property] = isArray ? ArrayOf(property, maximum + 1) : TextOf(property, maximum + 1);

        var problem = await (await _client.PostAsJsonAsync(url, body)).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors(property), m => m.Contains(maximum.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("CreateClaimRequest", "tags", "/claims")]
    [InlineData("SourceRequest", "name", "/sources")]
    [InlineData("SourceRequest", "url", "/sources")]
    [InlineData("StatusesRequest", "ids", "/claims/statuses")]
    [InlineData("ApiKeyRequest", "name", "/admin/keys")]
    public async Task ExactlyADocumentedMaximumIsAccepted(string schema, string property, string url)
    {
        var definition = (await DocumentAsync()).GetProperty("components").GetProperty("schemas").GetProperty(schema).GetProperty("properties").GetProperty(property);
        var (maximum, isArray) = definition.TryGetProperty("maxItems", out var items) ? (items.GetInt32(), true) : (definition.GetProperty("maxLength").GetInt32(), false);
        var body = BaseBody(url);
        body[property] = isArray ? ArrayOf(property, maximum) : TextOf(property, maximum);

        var response = await _client.PostAsJsonAsync(url, body);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {url} with {maximum} {(isArray ? "items in" : "characters of")} {property}: {(int)response.StatusCode} {text}");
    }

    [Theory]
    [InlineData("/claims")]
    [InlineData("/sources")]
    [InlineData("/admin/keys")]
    [InlineData("/claims/similar?text=soldiers")]
    public async Task OneOverTheDocumentedPageSizeIs400NamingLimit(string url)
    {
        var path = url.Split('?')[0];
        var maximum = (await DocumentAsync()).GetProperty("paths").GetProperty(path).GetProperty("get").GetProperty("parameters").EnumerateArray()
            .Single(p => p.Str("name") == "limit").GetProperty("schema").GetProperty("maximum").GetInt32();
        var separator = url.Contains('?', StringComparison.Ordinal) ? '&' : '?';

        await (await _client.GetAsync($"{url}{separator}limit={maximum}")).ReadJsonAsync(HttpStatusCode.OK);
        var problem = await (await _client.GetAsync($"{url}{separator}limit={maximum + 1}")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors("limit"), m => m.Contains(maximum.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
    }

    // ---- Helpers -------------------------------------------------------------------------------

    private WebApplicationFactory<Program> Limited(int requestsPerMinute, int writesPerMinute) => api.WithWebHostBuilder(builder =>
    {
        builder.UseSetting("RateLimiting:RequestsPerMinute", requestsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("RateLimiting:WritesPerMinute", writesPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture));
    });

    private static HttpClient Client(WebApplicationFactory<Program> factory, string key)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    private static async Task<string> CreateKeyAsync(HttpClient admin, string name, string role)
    {
        var created = await (await admin.PostAsJsonAsync("/admin/keys", new { name, role })).ReadJsonAsync(HttpStatusCode.Created);
        return created.Str("key");
    }

    /// <summary>
    /// Sends until the first 429. The bucket refills once a minute, so however the timing falls,
    /// a limit of n is reached within 2n + 1 requests; more than that means there is no limit.
    /// </summary>
    private static async Task<HttpResponseMessage> ExhaustAsync(HttpClient client, Func<Task<HttpResponseMessage>> send, HttpStatusCode? answerBefore = null)
    {
        for (var i = 0; i < 60; i++)
        {
            var response = await send();
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(i > 0, "The very first request was already limited.");
                return response;
            }

            Assert.True(answerBefore is null ? response.IsSuccessStatusCode : response.StatusCode == answerBefore, $"Expected {answerBefore?.ToString() ?? "success"} before the limit, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        Assert.Fail($"No 429 after 60 requests to {client.BaseAddress}.");
        return null!;
    }

    private static async Task AssertTooManyRequestsAsync(HttpResponseMessage response)
    {
        var problem = await response.ReadProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal("Too many requests.", problem.Str("title"));
        Assert.Contains("Retry", problem.Str("detail"), StringComparison.Ordinal);
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is not null, $"429 without a Retry-After in seconds: {response.Headers}");
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        Assert.Contains(((int)retryAfter.Value.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture), problem.Str("detail"), StringComparison.Ordinal);
    }

    private async Task<JsonElement> DocumentAsync() =>
        await (await _client.GetAsync("/swagger/v1/swagger.json")).ReadJsonAsync(HttpStatusCode.OK);

    private async Task<(Guid Claim, Guid Source)> ClaimAndSourceAsync()
    {
        var source = await _client.SourceAsync("Suspilne", "outlet", "C");
        var claim = await _client.ClaimAsync(Story.Training, Story.Evidence(source, "asserts"));
        return (claim, source);
    }

    /// <summary>Everything a refused request could have changed: counts, the claim, its status, the source, the keys.</summary>
    private async Task<string> SnapshotAsync(Guid claim, Guid source)
    {
        var parts = new List<string>();
        foreach (var url in new[] { "/stats", $"/claims/{claim}", $"/claims/{claim}/status", $"/claims/{claim}/history", $"/sources/{source}", "/admin/keys?limit=200" })
        {
            parts.Add((await (await _client.GetAsync(url)).ReadJsonAsync(HttpStatusCode.OK)).GetRawText());
        }

        return string.Join("\n", parts);
    }

    private static string Fill(string text, Guid claim, Guid source) => text
        .Replace("{claim}", claim.ToString(), StringComparison.Ordinal)
        .Replace("{source}", source.ToString(), StringComparison.Ordinal);

    /// <summary>A JSON object of exactly <paramref name="bytes"/> bytes: one string property padded to size.</summary>
    private static ByteArrayContent JsonOfExactly(int bytes, string property)
    {
        var prefix = "{\"" + property + "\":\"";
        const string suffix = "\"}";
        var json = prefix + new string('a', bytes - prefix.Length - suffix.Length) + suffix;
        Assert.Equal(bytes, Encoding.UTF8.GetByteCount(json));
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static Dictionary<string, object?> BaseBody(string url) => url switch
    {
        "/claims" => new() { ["statement"] = Story.Training },
        "/sources" => new() { ["name"] = "Suspilne", ["kind"] = "outlet" },
        "/admin/keys" => new() { ["name"] = "desk", ["role"] = "reader" },
        _ => [],
    };

    private static object TextOf(string property, int length) => property switch
    {
        "url" => "https://suspilne.media/" + new string('a', length - "https://suspilne.media/".Length),
        _ => new string('a', length),
    };

    private static object ArrayOf(string property, int count) => property switch
    {
        "tags" => Enumerable.Range(1, count).Select(i => $"tag-{i}").ToArray(),
        "evidence" => Enumerable.Range(1, count).Select(_ => Story.Evidence(Guid.CreateVersion7(), "asserts")).ToArray(),
        _ => Enumerable.Range(1, count).Select(_ => Guid.CreateVersion7()).ToArray(),
    };

    /// <summary>A body that does not say how long it is, so the client sends it chunked.</summary>
    private sealed class UnknownLengthContent(byte[] bytes) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < bytes.Length; offset += 16 * 1024)
            {
                await stream.WriteAsync(bytes.AsMemory(offset, Math.Min(16 * 1024, bytes.Length - offset)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
