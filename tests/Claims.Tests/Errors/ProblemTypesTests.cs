using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Claims.Api.Errors;
using Claims.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Claims.Tests;

/// <summary>
/// Problem types a client can branch on, each with a page that explains it, and the X-Request-Id
/// that every answer, the problem body and the log share.
/// </summary>
public sealed partial class ProblemTypesTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const string RequestId = "X-Request-Id";

    private readonly HttpClient _admin = api.CreateClient();

    [Fact]
    public async Task TheThreeConflictsHaveTypesOfTheirOwnEachWithItsFixedTitle()
    {
        // The verdict rule, twice: two claims, the same type and title, a detail of its own each.
        var first = await _admin.ClaimAsync();
        var second = await _admin.ClaimAsync("North Korean soldiers have deserted.");
        var verdict = await _admin.SetStatusAsync(first, "confirmed", "Two outlets agree.", HttpStatusCode.Conflict);
        var again = await _admin.SetStatusAsync(second, "confirmed", "One outlet says so.", HttpStatusCode.Conflict);

        // A source still cited.
        var source = await _admin.SourceAsync("Suspilne", "outlet");
        await _admin.ClaimAsync("North Korean soldiers are training in Russia, Suspilne says.", Story.Evidence(source, "asserts"));
        var cited = await (await _admin.DeleteAsync($"/sources/{source}")).ReadProblemAsync(HttpStatusCode.Conflict);

        // An Idempotency-Key whose first request still runs: its lock is held, as that request would.
        var key = Guid.NewGuid().ToString();
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        await using var running = await connection.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended(@owner || ':' || @key, 7274))", connection, running))
        {
            hold.Parameters.AddWithValue("owner", "bootstrap");
            hold.Parameters.AddWithValue("key", key);
            await hold.ExecuteNonQueryAsync();
        }

        using var post = new HttpRequestMessage(HttpMethod.Post, "/sources") { Content = JsonContent.Create(new { name = "Hromadske", kind = "outlet" }) };
        post.Headers.Add("Idempotency-Key", key);
        var inFlight = await (await _admin.SendAsync(post)).ReadProblemAsync(HttpStatusCode.Conflict);

        AssertType(ProblemTypes.ConfirmNeedsSupport, verdict);
        AssertType(ProblemTypes.ConfirmNeedsSupport, again);
        AssertType(ProblemTypes.SourceStillCited, cited);
        AssertType(ProblemTypes.IdempotencyKeyInFlight, inFlight);
        Assert.Equal(
            ["/problems/confirm-needs-support", "/problems/idempotency-key-in-flight", "/problems/source-still-cited"],
            new[] { verdict, cited, inFlight }.Select(p => p.Str("type")).Order(StringComparer.Ordinal));
        Assert.Contains("1 evidence item(s)", cited.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheTypeOfARealProblemResolvesToAPageThatExplainsIt()
    {
        var claim = await _admin.ClaimAsync();
        var problem = await _admin.SetStatusAsync(claim, "confirmed", "Two outlets agree.", HttpStatusCode.Conflict);
        using var anonymous = api.CreateClient(null);

        var page = await anonymous.GetAsync(problem.Str("type"));

        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"<h1>{WebUtility.HtmlEncode(ProblemTypes.ConfirmNeedsSupport.Title)}</h1>", html, StringComparison.Ordinal);
        Assert.Contains("Status 409", html, StringComparison.Ordinal);
        Assert.Contains("<code>/problems/confirm-needs-support</code>", html, StringComparison.Ordinal);
        Assert.Contains("POST /claims/{id}/evidence", html, StringComparison.Ordinal);
        Assert.Contains("public", page.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
        Assert.True(page.Headers.CacheControl?.MaxAge > TimeSpan.Zero, $"Not cacheable: {page.Headers.CacheControl}");
    }

    [Theory]
    [InlineData("no-such-problem")]
    [InlineData("Not-Found")]
    public async Task AnUnknownSlugIs404NotFoundProblem(string slug)
    {
        using var anonymous = api.CreateClient(null);

        var problem = await (await anonymous.GetAsync($"/problems/{slug}")).ReadProblemAsync(HttpStatusCode.NotFound);

        AssertType(ProblemTypes.NotFound, problem);
        Assert.Contains($"'{slug}'", problem.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheListLinksEveryTypeOfTheCatalogueAndEachLinkServesItsTitle()
    {
        using var anonymous = api.CreateClient(null);

        var response = await anonymous.GetAsync("/problems");

        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var links = Link().Matches(html).Select(m => m.Groups["href"].Value).ToList();
        Assert.Equal(ProblemTypes.All.Select(t => t.Uri), links);
        Assert.Equal(links.Count, links.Distinct().Count());
        foreach (var type in ProblemTypes.All)
        {
            var page = await (await anonymous.GetAsync(type.Uri)).Content.ReadAsStringAsync();
            Assert.Contains($"<h1>{WebUtility.HtmlEncode(type.Title)}</h1>", page, StringComparison.Ordinal);
            Assert.Contains($"Status {type.Status}", page, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheReadmeTableIsTheCatalogueTheApiServesInItsDocument()
    {
        var document = await (await _admin.GetAsync("/swagger/v1/swagger.json")).ReadJsonAsync(HttpStatusCode.OK);
        var list = document.GetProperty("paths").GetProperty("/problems").GetProperty("get");
        var page = document.GetProperty("paths").GetProperty("/problems/{slug}").GetProperty("get");

        var served = TableRows(list.Str("description"));
        var readme = TableRows(await File.ReadAllTextAsync(Repository.Folder("README.md")));

        Assert.Equal(ProblemTypes.All.Count, served.Count);
        Assert.Equal(served, readme);
        Assert.All(ProblemTypes.All, type => Assert.Contains(served, row => row.StartsWith($"| `{type.Slug}` | {type.Status} | {type.Title} |", StringComparison.Ordinal)));
        var slug = Assert.Single(page.GetProperty("parameters").EnumerateArray(), p => p.Str("name") == "slug");
        Assert.Equal(ProblemTypes.All.Select(t => t.Slug), slug.GetProperty("schema").GetProperty("enum").EnumerateArray().Select(v => v.GetString()));
        Assert.True(page.GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("text/html", out _), $"The page is not declared text/html: {page}");
        Assert.True(page.GetProperty("responses").GetProperty("404").GetProperty("content").TryGetProperty("application/problem+json", out _), $"404 is not declared a problem: {page}");
        Assert.Equal(0, page.GetProperty("security").GetArrayLength()); // open to anyone, and the document says so
    }

    public static TheoryData<string> Answers() =>
        ["200", "201", "204", "304", "400", "401", "404", "409", "429", "swagger", "health", "problem page"];

    [Theory]
    [MemberData(nameof(Answers))]
    public async Task EveryAnswerCarriesARequestIdThatAProblemRepeats(string answer)
    {
        // Only the 429 needs an app with a rate limit; it allows one request a minute.
        await using var limited = answer == "429" ? api.WithWebHostBuilder(builder => builder.UseSetting("RateLimiting:RequestsPerMinute", "1")) : null;
        var claim = await _admin.ClaimAsync();
        var etag = (await _admin.GetAsync($"/claims/{claim}")).Headers.ETag!;
        using var anonymous = api.CreateClient(null);
        var (client, request, status) = answer switch
        {
            "200" => (_admin, new HttpRequestMessage(HttpMethod.Get, "/claims"), HttpStatusCode.OK),
            "201" => (_admin, new HttpRequestMessage(HttpMethod.Post, "/sources") { Content = JsonContent.Create(new { name = "Hromadske", kind = "outlet" }) }, HttpStatusCode.Created),
            "204" => (_admin, new HttpRequestMessage(HttpMethod.Delete, $"/claims/{claim}"), HttpStatusCode.NoContent),
            "304" => (_admin, new HttpRequestMessage(HttpMethod.Get, $"/claims/{claim}") { Headers = { IfNoneMatch = { etag } } }, HttpStatusCode.NotModified),
            "400" => (_admin, new HttpRequestMessage(HttpMethod.Get, "/claims?limit=0"), HttpStatusCode.BadRequest),
            "401" => (anonymous, new HttpRequestMessage(HttpMethod.Get, "/claims"), HttpStatusCode.Unauthorized),
            "404" => (_admin, new HttpRequestMessage(HttpMethod.Get, $"/claims/{Guid.CreateVersion7()}"), HttpStatusCode.NotFound),
            "409" => (_admin, new HttpRequestMessage(HttpMethod.Put, $"/claims/{claim}/status") { Content = JsonContent.Create(new { status = "confirmed", note = "Sure." }) }, HttpStatusCode.Conflict),
            "429" => (Limited(limited!, api.AdminKey), new HttpRequestMessage(HttpMethod.Get, "/stats"), HttpStatusCode.TooManyRequests),
            "swagger" => (anonymous, new HttpRequestMessage(HttpMethod.Get, "/swagger/v1/swagger.json"), HttpStatusCode.OK),
            "health" => (anonymous, new HttpRequestMessage(HttpMethod.Get, "/health/live"), HttpStatusCode.OK),
            "problem page" => (anonymous, new HttpRequestMessage(HttpMethod.Get, "/problems/not-found"), HttpStatusCode.OK),
            _ => throw new ArgumentOutOfRangeException(nameof(answer)),
        };
        if (answer == "429")
        {
            await (await client.GetAsync("/stats")).ReadJsonAsync(HttpStatusCode.OK);
        }

        var response = await client.SendAsync(request);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        var id = Assert.Single(response.Headers.GetValues(RequestId));
        Assert.Matches(WellFormed(), id);
        if (status >= HttpStatusCode.BadRequest)
        {
            Assert.Equal(id, (await response.ReadProblemAsync(status)).Str("requestId"));
        }
    }

    [Fact]
    public async Task BrowserPagesOnAnAllowedOriginMayReadTheRequestIdAndAPreflightCarriesOneToo()
    {
        await using var cors = api.WithWebHostBuilder(builder => builder.UseSetting("Cors:AllowedOrigins:0", "https://desk.example.org"));
        using var client = cors.CreateClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/claims");
        preflight.Headers.Add("Origin", "https://desk.example.org");
        preflight.Headers.Add("Access-Control-Request-Method", "GET");
        preflight.Headers.Add("Access-Control-Request-Headers", "x-api-key");
        using var read = new HttpRequestMessage(HttpMethod.Get, "/stats");
        read.Headers.Add("Origin", "https://desk.example.org");
        read.Headers.Add("X-Api-Key", api.AdminKey);

        var preflightAnswer = await client.SendAsync(preflight);
        var answer = await client.SendAsync(read);

        Assert.Equal(HttpStatusCode.NoContent, preflightAnswer.StatusCode);
        Assert.Matches(WellFormed(), Assert.Single(preflightAnswer.Headers.GetValues(RequestId)));
        await answer.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Contains(RequestId, answer.Headers.GetValues("Access-Control-Expose-Headers").SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries)),
            StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task EachRequestGetsAnIdOfItsOwn()
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 5; i++)
        {
            ids.Add(Assert.Single((await _admin.GetAsync("/stats")).Headers.GetValues(RequestId)));
        }

        Assert.Equal(5, ids.Count);
    }

    [Theory]
    [InlineData("desk-42.retry_1:a")]
    [InlineData("0192b8a0-5000-7000-8000-000000000001")]
    [InlineData("x")]
    public async Task AWellFormedRequestIdFromTheClientIsEchoedAndRepeatedInTheProblem(string sent)
    {
        using var ok = new HttpRequestMessage(HttpMethod.Get, "/stats") { Headers = { { RequestId, sent } } };
        using var missing = new HttpRequestMessage(HttpMethod.Get, $"/claims/{Guid.CreateVersion7()}") { Headers = { { RequestId, sent } } };

        var answer = await _admin.SendAsync(ok);
        var problemAnswer = await _admin.SendAsync(missing);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(sent, Assert.Single(answer.Headers.GetValues(RequestId)));
        Assert.Equal(sent, Assert.Single(problemAnswer.Headers.GetValues(RequestId)));
        Assert.Equal(sent, (await problemAnswer.ReadProblemAsync(HttpStatusCode.NotFound)).Str("requestId"));
    }

    public static TheoryData<string[]> IllFormedIds() =>
    [
        [new string('a', 65)],
        [new string('a', 200)],
        ["has space"],
        ["semi;colon"],
        ["naïve"],
        [""],
        ["one", "two"],
    ];

    [Theory]
    [MemberData(nameof(IllFormedIds))]
    public async Task AnIllFormedRequestIdIsReplacedWithOneOfTheServers(string[] sent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/claims/{Guid.CreateVersion7()}");
        foreach (var value in sent)
        {
            request.Headers.TryAddWithoutValidation(RequestId, value);
        }

        var response = await _admin.SendAsync(request);

        var id = Assert.Single(response.Headers.GetValues(RequestId));
        Assert.DoesNotContain(id, sent);
        Assert.Matches(WellFormed(), id);
        Assert.Equal(id, (await response.ReadProblemAsync(HttpStatusCode.NotFound)).Str("requestId"));
    }

    [Fact]
    public async Task TheLogLinesOfARequestCarryItsRequestId()
    {
        var logs = new CapturedLogs();
        await using var logged = api.WithWebHostBuilder(builder => builder.ConfigureLogging(logging => logging
            .AddProvider(logs)
            // The request lines the framework writes are below the shipped level; this provider wants them.
            .AddFilter<CapturedLogs>("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Information)));
        using var client = logged.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", api.AdminKey);
        using var sent = new HttpRequestMessage(HttpMethod.Get, "/stats") { Headers = { { RequestId, "log-probe-7" } } };

        var named = await client.SendAsync(sent);
        var generated = await client.GetAsync($"/claims/{Guid.CreateVersion7()}");

        Assert.Equal("log-probe-7", Assert.Single(named.Headers.GetValues(RequestId)));
        var generatedId = Assert.Single(generated.Headers.GetValues(RequestId));
        AssertLogged(logs, "/stats", "log-probe-7");
        AssertLogged(logs, "/claims/", generatedId);
    }

    [Fact]
    public async Task TheShippedConsoleLogShowsTheRequestId()
    {
        await using var server = await ApiServer.StartAsync(api.ConnectionString, new Dictionary<string, string>
        {
            ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information",
        });
        using var client = new HttpClient { BaseAddress = server.Address };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health/live") { Headers = { { RequestId, "console-probe-3" } } };

        var response = await client.SendAsync(request);

        Assert.Equal("console-probe-3", Assert.Single(response.Headers.GetValues(RequestId)));
        await server.WaitForOutputAsync("RequestId:console-probe-3", TimeSpan.FromSeconds(10));
    }

    private static void AssertLogged(CapturedLogs logs, string path, string requestId)
    {
        var lines = logs.Entries.Where(e => e.Scope.TryGetValue("RequestPath", out var p) && p?.ToString()?.StartsWith(path, StringComparison.Ordinal) == true).ToList();
        Assert.True(lines.Any(e => e.Message.StartsWith("Request finished", StringComparison.Ordinal)),
            $"No 'Request finished' line for {path}; logged: {string.Join(Environment.NewLine, logs.Entries.Select(e => e.Message))}");
        Assert.All(lines, e => Assert.Equal(requestId, e.Scope["RequestId"]?.ToString()));
    }

    private static void AssertType(ProblemType type, JsonElement problem)
    {
        Assert.Equal(type.Uri, problem.Str("type"));
        Assert.Equal(type.Title, problem.Str("title"));
        Assert.Equal(type.Status, problem.GetProperty("status").GetInt32());
    }

    private static HttpClient Limited(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> factory, string key)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    /// <summary>The rows of the problem-type table in a Markdown text.</summary>
    private static List<string> TableRows(string markdown)
    {
        var lines = markdown.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var start = lines.IndexOf("| slug | status | title | meaning |");
        Assert.True(start >= 0, "No problem-type table.");
        Assert.Equal("|---|---|---|---|", lines[start + 1]);
        return [.. lines.Skip(start + 2).TakeWhile(l => l.StartsWith('|'))];
    }


    [GeneratedRegex("^[A-Za-z0-9._:-]{1,64}$")]
    private static partial Regex WellFormed();

    [GeneratedRegex("<a href=\"(?<href>/problems/[^\"]+)\">")]
    private static partial Regex Link();

    /// <summary>Every line logged, with the values of the scopes it was written in.</summary>
    private sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ConcurrentQueue<(string Category, string Message, Dictionary<string, object?> Scope)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(CapturedLogs logs, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => logs._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scope = new Dictionary<string, object?>(StringComparer.Ordinal);
                logs._scopes.ForEachScope((value, values) =>
                {
                    if (value is IEnumerable<KeyValuePair<string, object?>> pairs)
                    {
                        foreach (var (key, item) in pairs)
                        {
                            values[key] = item;
                        }
                    }
                }, scope);
                logs.Entries.Enqueue((category, formatter(state, exception), scope));
            }
        }
    }
}
