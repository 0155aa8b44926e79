using System.Net.Http.Headers;
using Claims.Api.Errors;
using Claims.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace Claims.Tests;

/// <summary>
/// What every answer carries whoever produced it: errors are complete problems (type, title,
/// status, trace id) whatever the client accepts, and answers are marked so that no shared cache
/// can hand one caller's answer to another.
/// </summary>
public sealed class HttpConventionsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    public static TheoryData<string, string> ProblemsFromEveryProducer()
    {
        var accepts = new[] { "application/xml", "text/html", "text/plain", "application/json", "" };
        var producers = new[]
        {
            "404 no such route", "404 no such claim", "400 validation", "400 unreadable JSON", "401 no key", "415 not JSON", "428 no If-Match", "405 wrong method",
        };
        var data = new TheoryData<string, string>();
        foreach (var producer in producers)
        {
            foreach (var accept in accepts)
            {
                data.Add(producer, accept);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ProblemsFromEveryProducer))]
    public async Task EveryErrorIsACompleteProblemWhateverTheClientAccepts(string producer, string accept)
    {
        var claim = await _client.ClaimAsync();
        var client = api.CreateClient(producer.StartsWith("401", StringComparison.Ordinal) ? null : api.AdminKey, sendCurrentETag: false);
        var request = producer switch
        {
            "404 no such route" => new HttpRequestMessage(HttpMethod.Get, "/no-such-thing"),
            "404 no such claim" => new HttpRequestMessage(HttpMethod.Get, $"/claims/{Guid.CreateVersion7()}"),
            "400 validation" => Json(HttpMethod.Post, "/claims", """{"statement":""}"""),
            "400 unreadable JSON" => Json(HttpMethod.Post, "/claims", """{"statement":"""),
            "401 no key" => new HttpRequestMessage(HttpMethod.Get, "/claims"),
            "415 not JSON" => new HttpRequestMessage(HttpMethod.Post, "/claims") { Content = new StringContent("statement=a", new MediaTypeHeaderValue("text/plain")) },
            "428 no If-Match" => Json(HttpMethod.Put, $"/claims/{claim}", """{"statement":"North Korean soldiers have deserted."}"""),
            "405 wrong method" => new HttpRequestMessage(HttpMethod.Patch, "/claims"),
            _ => throw new ArgumentOutOfRangeException(nameof(producer)),
        };
        if (accept.Length > 0)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        var response = await client.SendAsync(request);

        var status = (HttpStatusCode)int.Parse(producer[..3], System.Globalization.CultureInfo.InvariantCulture);
        var problem = await response.ReadProblemAsync(status);
        var type = producer switch
        {
            "404 no such route" or "404 no such claim" => ProblemTypes.NotFound,
            "400 validation" => ProblemTypes.InvalidRequest,
            "400 unreadable JSON" => ProblemTypes.MalformedJson,
            "401 no key" => ProblemTypes.Unauthenticated,
            "415 not JSON" => ProblemTypes.UnsupportedMediaType,
            "428 no If-Match" => ProblemTypes.IfMatchRequired,
            _ => ProblemTypes.MethodNotAllowed,
        };
        Assert.Equal(type.Uri, problem.Str("type"));
        Assert.Equal(type.Title, problem.Str("title"));
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", problem.Str("traceId"));
        Assert.Equal(Assert.Single(response.Headers.GetValues("X-Request-Id")), problem.Str("requestId"));
    }

    [Theory]
    [InlineData(428, "/problems/if-match-required")]
    [InlineData(412, "/problems/version-mismatch")]
    public async Task PreconditionProblemsNameTheirCatalogueType(int status, string type)
    {
        var claim = await _client.ClaimAsync();
        var client = api.CreateClient(api.AdminKey, sendCurrentETag: false);
        var request = Json(HttpMethod.Put, $"/claims/{claim}", """{"statement":"North Korean soldiers have deserted."}""");
        if (status == 412)
        {
            request.Headers.TryAddWithoutValidation("If-Match", "\"9\"");
        }

        var problem = await (await client.SendAsync(request)).ReadProblemAsync((HttpStatusCode)status);

        Assert.Equal(type, problem.Str("type"));
    }

    [Fact]
    public async Task ATooManyRequestsProblemNamesItsCatalogueType()
    {
        await using var limited = api.WithWebHostBuilder(builder => builder.UseSetting("RateLimiting:RequestsPerMinute", "1"));
        using var client = limited.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", api.AdminKey);
        await (await client.GetAsync("/stats")).ReadJsonAsync(HttpStatusCode.OK);

        var problem = await (await client.GetAsync("/stats")).ReadProblemAsync(HttpStatusCode.TooManyRequests);

        Assert.Equal("/problems/rate-limited", problem.Str("type"));
        Assert.False(string.IsNullOrEmpty(problem.Str("traceId")));
    }

    [Theory]
    [InlineData("/claims?limit=5", "private")]
    [InlineData("/sources", "private")]
    [InlineData("/stats", "private")]
    [InlineData("/claims/{claim}", "private, no-cache")]
    [InlineData("/claims/{claim}/status", "private, no-cache")]
    [InlineData("/claims/{claim}/history", "private")]
    [InlineData("/claims/{unknown}", "private")]
    public async Task AnswersAreTheCallersAloneVaryOnTheKeyAndAreNeverSniffed(string url, string cacheControl)
    {
        var claim = await _client.ClaimAsync();

        var response = await _client.GetAsync(url.Replace("{claim}", claim.ToString(), StringComparison.Ordinal)
            .Replace("{unknown}", Guid.CreateVersion7().ToString(), StringComparison.Ordinal));

        AssertCacheControl(response, cacheControl);
        Assert.Contains("X-Api-Key", response.Headers.Vary);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task ANotModifiedStatusKeepsTheSameCachingHeaders()
    {
        var claim = await _client.ClaimAsync();
        var first = await _client.GetAsync($"/claims/{claim}/status");
        var request = new HttpRequestMessage(HttpMethod.Get, $"/claims/{claim}/status");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);

        var again = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        AssertCacheControl(again, "private, no-cache");
        Assert.Contains("X-Api-Key", again.Headers.Vary);
        Assert.Equal(first.Headers.ETag, again.Headers.ETag);
    }

    [Fact]
    public async Task ARefusalForAMissingKeyVariesOnTheKeyToo()
    {
        var response = await api.CreateClient(null).GetAsync("/claims");

        await response.ReadProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("X-Api-Key", response.Headers.Vary);
        AssertCacheControl(response, "private");
    }

    [Fact]
    public async Task AListLinksToItsNextPageWithItsFiltersUntilTheLastPage()
    {
        var tag = "linked-" + Guid.NewGuid().ToString("N")[..12];
        var created = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            created.Add((await (await _client.PostAsJsonAsync("/claims", new { statement = $"North Korean soldiers are training in Russia ({i}).", tags = new[] { tag } }))
                .ReadJsonAsync(HttpStatusCode.Created)).Id());
        }

        var seen = new List<Guid>();
        var url = $"/claims?tag={tag}&limit=1";
        for (var page = 0; page < 5; page++)
        {
            var response = await _client.GetAsync(url);
            var body = await response.ReadJsonAsync(HttpStatusCode.OK);
            seen.AddRange(body.GetProperty("items").EnumerateArray().Select(c => c.Id()));
            var cursor = body.GetProperty("nextCursor").GetString();
            if (cursor is null)
            {
                Assert.False(response.Headers.Contains("Link"), "The last page links to a next one.");
                break;
            }

            var link = Assert.Single(response.Headers.GetValues("Link"));
            var next = System.Text.RegularExpressions.Regex.Match(link, "^<(?<url>[^>]+)>; rel=\"next\"$");
            Assert.True(next.Success, $"Not a next link: {link}");
            var target = new Uri(next.Groups["url"].Value);
            Assert.True(target.IsAbsoluteUri);
            var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(target.Query);
            Assert.Equal(tag, query["tag"].ToString());
            Assert.Equal("1", query["limit"].ToString());
            Assert.Equal(cursor, query["cursor"].ToString());
            url = target.PathAndQuery;
        }

        Assert.Equal(created.AsEnumerable().Reverse(), seen);
    }

    [Theory]
    [InlineData("/sources?limit=1")]
    [InlineData("/claims/{claim}/history?limit=1")]
    [InlineData("/claims/{claim}/evidence?limit=1")]
    [InlineData("/admin/keys?limit=1")]
    public async Task EveryListWithAnotherPageAnswersALinkToIt(string url)
    {
        var source = await _client.SourceAsync("Suspilne", "outlet", "C");
        await _client.SourceAsync("Hromadske", "outlet", "B");
        var claim = await _client.ClaimAsync("North Korean soldiers are training in Russia.", Story.Evidence(source, "asserts"), Story.Evidence(source, "supports"));
        await _client.SetStatusAsync(claim, "in_review", "Seeking a second source.");
        await (await _client.PostAsJsonAsync("/admin/keys", new { name = "night desk", role = "reader" })).ReadJsonAsync(HttpStatusCode.Created);
        await (await _client.PostAsJsonAsync("/admin/keys", new { name = "day desk", role = "reader" })).ReadJsonAsync(HttpStatusCode.Created);

        var response = await _client.GetAsync(url.Replace("{claim}", claim.ToString(), StringComparison.Ordinal));

        var cursor = (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("nextCursor").GetString();
        Assert.NotNull(cursor);
        Assert.Contains($"cursor={Uri.EscapeDataString(cursor)}>; rel=\"next\"", Assert.Single(response.Headers.GetValues("Link")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/claims/{claim}")]
    [InlineData("/sources/{source}")]
    [InlineData("/claims/{claim}/status")]
    public async Task AGetWithAnETagAnswers304WithoutABodyWhileIfNoneMatchNamesIt(string path)
    {
        var source = await _client.SourceAsync("Suspilne", "outlet", "C");
        var claim = await _client.ClaimAsync("North Korean soldiers are training in Russia.", Story.Evidence(source, "asserts"));
        var url = path.Replace("{claim}", claim.ToString(), StringComparison.Ordinal).Replace("{source}", source.ToString(), StringComparison.Ordinal);
        var first = await _client.GetAsync(url);
        await first.ReadJsonAsync(HttpStatusCode.OK);
        var etag = first.Headers.ETag!;

        var same = await GetWithAsync(url, etag.ToString());
        var weak = await GetWithAsync(url, $"W/{etag.Tag}");
        var any = await GetWithAsync(url, "*");
        var other = await GetWithAsync(url, "\"not-the-tag\"");

        foreach (var notModified in new[] { same, weak, any })
        {
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
            Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
            Assert.Equal(etag, notModified.Headers.ETag);
        }

        await other.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await other.Content.ReadAsStringAsync());
        // A change gives a new tag, and the old one no longer saves the body.
        await (await _client.PostAsJsonAsync($"/claims/{claim}/evidence", Story.Evidence(source, "supports"))).ReadJsonAsync(HttpStatusCode.Created);
        await (await _client.PutAsJsonAsync($"/sources/{source}", new { name = "Suspilne", kind = "outlet", reliability = "B" })).ReadJsonAsync(HttpStatusCode.OK);
        var changed = await GetWithAsync(url, etag.ToString());
        await changed.ReadJsonAsync(HttpStatusCode.OK);
        Assert.NotEqual(etag, changed.Headers.ETag);
    }

    private Task<HttpResponseMessage> GetWithAsync(string url, string ifNoneMatch)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        return _client.SendAsync(request);
    }

    [Fact]
    public async Task AConfiguredOriginGetsItsPreflightAndReadsTheHeadersAClientNeeds()
    {
        await using var cors = api.WithWebHostBuilder(builder => builder.UseSetting("Cors:AllowedOrigins:0", "https://desk.example.org"));
        using var client = cors.CreateClient();
        var preflight = new HttpRequestMessage(HttpMethod.Options, "/claims");
        preflight.Headers.Add("Origin", "https://desk.example.org");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "x-api-key, content-type, idempotency-key");

        var answer = await client.SendAsync(preflight);

        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal("https://desk.example.org", Assert.Single(answer.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Contains("POST", string.Join(",", answer.Headers.GetValues("Access-Control-Allow-Methods")), StringComparison.Ordinal);
        var allowed = string.Join(",", answer.Headers.GetValues("Access-Control-Allow-Headers")).ToLowerInvariant();
        Assert.Contains("x-api-key", allowed, StringComparison.Ordinal);
        Assert.Contains("idempotency-key", allowed, StringComparison.Ordinal);

        var read = new HttpRequestMessage(HttpMethod.Get, "/claims?limit=1");
        read.Headers.Add("Origin", "https://desk.example.org");
        read.Headers.Add("X-Api-Key", api.AdminKey);
        var page = await client.SendAsync(read);
        await page.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("https://desk.example.org", Assert.Single(page.Headers.GetValues("Access-Control-Allow-Origin")));
        var exposed = string.Join(",", page.Headers.GetValues("Access-Control-Expose-Headers"));
        foreach (var header in new[] { "ETag", "Location", "Link", "Retry-After", "Idempotent-Replayed" })
        {
            Assert.Contains(header, exposed, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Theory]
    [InlineData("https://elsewhere.example.org", "https://desk.example.org")]
    [InlineData("https://desk.example.org", null)]
    public async Task AnOriginThatIsNotConfiguredGetsNoPermission(string origin, string? configured)
    {
        await using var cors = api.WithWebHostBuilder(builder => builder.UseSetting("Cors:AllowedOrigins:0", configured));
        using var client = cors.CreateClient();
        var preflight = new HttpRequestMessage(HttpMethod.Options, "/claims");
        preflight.Headers.Add("Origin", origin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        var read = new HttpRequestMessage(HttpMethod.Get, "/claims?limit=1");
        read.Headers.Add("Origin", origin);
        read.Headers.Add("X-Api-Key", api.AdminKey);

        var answer = await client.SendAsync(preflight);
        var page = await client.SendAsync(read);

        Assert.False(answer.Headers.Contains("Access-Control-Allow-Origin"), "A preflight from an origin not configured was allowed.");
        await page.ReadJsonAsync(HttpStatusCode.OK);
        Assert.False(page.Headers.Contains("Access-Control-Allow-Origin"), "An answer to an origin not configured allows it.");
    }

    /// <summary>The directives, in any order, and no others.</summary>
    private static void AssertCacheControl(HttpResponseMessage response, string expected)
    {
        var directives = string.Join(",", response.Headers.GetValues("Cache-Control")).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(expected.Split(", ").Order(StringComparer.Ordinal), directives.Order(StringComparer.Ordinal));
    }

    private static HttpRequestMessage Json(HttpMethod method, string url, string json) =>
        new(method, url) { Content = new StringContent(json, new MediaTypeHeaderValue("application/json")) };
}
