using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Claims.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Claims.Tests;

/// <summary>
/// The desk's sign-in: an API key sent once for an HttpOnly session cookie, which then stands for
/// the key; writes with the cookie need the session's CSRF token; and the page served at / with
/// its security headers. The browser is played by clients that keep no cookies of their own, so
/// that each request carries exactly the cookie the test gives it.
/// </summary>
public sealed class DeskSessionTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const string Cookie = "claims_session";
    private const string CsrfHeader = "X-CSRF-Token";

    private const string Csp =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; "
        + "manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private readonly HttpClient _admin = api.CreateClient();

    [Fact]
    public async Task SigningInSetsAnHttpOnlyStrictSessionCookieAndAnswersTheSessionWithoutTheKey()
    {
        var key = await KeyAsync("Suspilne desk", "reporter");
        using var browser = Browser();

        var response = await browser.PostAsJsonAsync("/desk/session", new { apiKey = key });

        var text = await response.Content.ReadAsStringAsync();
        var body = await response.ReadJsonAsync(HttpStatusCode.OK);
        var (value, attributes) = SessionCookie(response);
        Assert.Equal(["expires", "httponly", "max-age=43200", "path=/", "samesite=strict"], attributes.Select(a => a.StartsWith("expires=", StringComparison.Ordinal) ? "expires" : a).Order(StringComparer.Ordinal));
        Assert.Equal(43, value.Length);
        Assert.Equal("Suspilne desk", body.Str("name"));
        Assert.Equal("reporter", body.Str("role"));
        Assert.Equal(43, body.Str("csrfToken").Length);
        Assert.NotEqual(value, body.Str("csrfToken"));
        Assert.InRange(body.GetProperty("expiresAt").GetDateTime(), DateTime.UtcNow.AddHours(11.9), DateTime.UtcNow.AddHours(12.1));
        Assert.Equal(["csrfToken", "expiresAt", "name", "role"], body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(key, text, StringComparison.Ordinal);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        // Only the cookie's hash is stored.
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM desk_sessions WHERE hash = @value", SHA256.HashData(Encoding.UTF8.GetBytes(value))));
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM desk_sessions s WHERE strpos(row_to_json(s)::text, @value) > 0", value));
    }

    [Fact]
    public async Task OverHttpsTheSessionCookieIsAlsoSecure()
    {
        var key = await KeyAsync("Hromadske desk", "reporter");
        using var browser = Browser(https: true);

        var response = await browser.PostAsJsonAsync("/desk/session", new { apiKey = key });

        await response.ReadJsonAsync(HttpStatusCode.OK);
        var (_, attributes) = SessionCookie(response);
        Assert.Equal(["expires", "httponly", "max-age=43200", "path=/", "samesite=strict", "secure"], attributes.Select(a => a.StartsWith("expires=", StringComparison.Ordinal) ? "expires" : a).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("clm_NotAKeyThatWasEverIssued")]
    [InlineData("clm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("revoked")]
    public async Task AnUnknownOrRevokedKeyIs401ProblemAndSetsNoCookie(string key)
    {
        if (key == "revoked")
        {
            var (id, secret) = await KeyWithIdAsync("Revoked Suspilne desk", "reporter");
            Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/admin/keys/{id}")).StatusCode);
            key = secret;
        }

        var before = await ScalarAsync("SELECT count(*) FROM desk_sessions");
        using var browser = Browser();

        var response = await browser.PostAsJsonAsync("/desk/session", new { apiKey = key });

        var problem = await response.ReadProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal("/problems/unauthenticated", problem.Str("type"));
        Assert.Contains("unknown or revoked", problem.Str("detail"), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.Equal(before, await ScalarAsync("SELECT count(*) FROM desk_sessions"));
    }

    [Fact]
    public async Task FailedSignInsCountAgainstTheAddressLikeFailedKeys()
    {
        var unused = await KeyAsync("Guessed desk", "reporter");
        await using var limited = api.WithWebHostBuilder(b => b.UseSetting("Auth:FailedAuthenticationsPerMinute", "2"));
        using var browser = limited.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });

        var first = await browser.PostAsJsonAsync("/desk/session", new { apiKey = "clm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
        var second = await browser.PostAsJsonAsync("/desk/session", new { apiKey = "clm_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB" });
        using var header = new HttpRequestMessage(HttpMethod.Get, "/claims");
        header.Headers.Add("X-Api-Key", unused);
        var byHeader = await browser.SendAsync(header);
        var signIn = await browser.PostAsJsonAsync("/desk/session", new { apiKey = unused });

        await first.ReadProblemAsync(HttpStatusCode.Unauthorized);
        await second.ReadProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal("/problems/too-many-failed-keys", (await byHeader.ReadProblemAsync(HttpStatusCode.TooManyRequests)).Str("type"));
        Assert.Equal("/problems/too-many-failed-keys", (await signIn.ReadProblemAsync(HttpStatusCode.TooManyRequests)).Str("type"));
        Assert.NotNull(signIn.Headers.RetryAfter);
        Assert.False(signIn.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task AMissingOrOverlongKeyIs400NamingTheField()
    {
        using var browser = Browser();

        var missing = await browser.PostRawAsync("/desk/session", "{}");
        var overlong = await browser.PostAsJsonAsync("/desk/session", new { apiKey = "clm_" + new string('A', 300) });

        Assert.NotEmpty((await missing.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors("apiKey"));
        Assert.NotEmpty((await overlong.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors("apiKey"));
        Assert.False(missing.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task TheCookieReadsAsTheKeyAndGetDeskSessionGivesTheSameTokenBack()
    {
        var session = await SignInAsync(await KeyAsync("Business Insider desk", "reader"));
        using var browser = Browser();

        var claims = await browser.SendAsync(Request(HttpMethod.Get, "/claims", session.Cookie));
        var again = await browser.SendAsync(Request(HttpMethod.Get, "/desk/session", session.Cookie));
        var without = await browser.GetAsync("/desk/session");

        await claims.ReadJsonAsync(HttpStatusCode.OK);
        var body = await again.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(session.CsrfToken, body.Str("csrfToken"));
        Assert.Equal("Business Insider desk", body.Str("name"));
        Assert.Equal("reader", body.Str("role"));
        Assert.Equal(session.ExpiresAt, body.GetProperty("expiresAt").GetDateTime());
        Assert.Equal("no-store", again.Headers.CacheControl?.ToString());
        Assert.Contains("POST /desk/session", (await without.ReadProblemAsync(HttpStatusCode.Unauthorized)).Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACookieWriteWithoutTheCsrfTokenIs403ProblemAndCreatesNothing()
    {
        var session = await SignInAsync(await KeyAsync("Suspilne night desk", "reporter"));
        const string statement = "Suspilne: North Korean soldiers left their positions near Kursk (no token).";
        using var browser = Browser();

        var response = await browser.SendAsync(Request(HttpMethod.Post, "/claims", session.Cookie, body: new { statement }));

        var problem = await RefusedAsync(response, "csrf-refused", statement);
        Assert.Contains($"in the {CsrfHeader} header; it has none", problem.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACookieWriteWithAnotherSessionsTokenIs403ProblemAndCreatesNothing()
    {
        var key = await KeyAsync("Hromadske night desk", "reporter");
        var session = await SignInAsync(key);
        var other = await SignInAsync(key);
        const string statement = "Hromadske: North Korean soldiers left their positions near Kursk (wrong token).";
        using var browser = Browser();

        var response = await browser.SendAsync(Request(HttpMethod.Post, "/claims", session.Cookie, other.CsrfToken, new { statement }));

        var problem = await RefusedAsync(response, "csrf-refused", statement);
        Assert.Contains("not this session's csrfToken", problem.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACookieWriteWithTheTokenIsStoredWithTheKeysNameAsAuthor()
    {
        var session = await SignInAsync(await KeyAsync("Verification desk", "reporter"));
        const string statement = "North Korean soldiers left their positions near Kursk, the desk reports.";
        using var browser = Browser();

        var response = await browser.SendAsync(Request(HttpMethod.Post, "/claims", session.Cookie, session.CsrfToken, new { statement }));

        var claim = await response.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal("Verification desk", claim.Str("createdBy"));
        Assert.Contains(statement, await ListedStatementsAsync());
    }

    [Fact]
    public async Task AForgedCrossSiteFormPostIsRefusedEvenWithTheTokenAndWritesNothing()
    {
        var session = await SignInAsync(await KeyAsync("Lloyd Austin desk", "reporter"));
        const string statement = "Forged: North Korean troops have withdrawn from Russia.";
        using var browser = Browser();
        var form = Request(HttpMethod.Post, "/claims", session.Cookie);
        form.Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["statement"] = statement });
        form.Headers.Add("Origin", "https://evil.example");
        var withToken = Request(HttpMethod.Post, "/claims", session.Cookie, session.CsrfToken, new { statement });
        withToken.Headers.Add("Origin", "https://evil.example");

        var forged = await browser.SendAsync(form);
        var forgedWithToken = await browser.SendAsync(withToken);

        Assert.Equal("application/x-www-form-urlencoded", form.Content.Headers.ContentType?.MediaType);
        Assert.Contains("https://evil.example", (await RefusedAsync(forged, "csrf-refused", statement)).Str("detail"), StringComparison.Ordinal);
        Assert.Contains("another origin", (await RefusedAsync(forgedWithToken, "csrf-refused", statement)).Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWriteFromTheApisOwnOriginWithTheTokenIsAccepted()
    {
        var session = await SignInAsync(await KeyAsync("Same-origin desk", "reporter"));
        using var browser = Browser(https: true);
        var request = Request(HttpMethod.Post, "/sources", session.Cookie, session.CsrfToken, new { name = "Suspilne", kind = "outlet" });
        request.Headers.Add("Origin", "https://localhost");

        var response = await browser.SendAsync(request);

        Assert.Equal("Same-origin desk", (await response.ReadJsonAsync(HttpStatusCode.Created)).Str("createdBy"));
    }

    [Fact]
    public async Task AReaderKeysSessionIs403ForbiddenOnPostClaimsEvenWithTheToken()
    {
        var session = await SignInAsync(await KeyAsync("Hromadske reader", "reader"));
        const string statement = "A reader tries to log that North Korean soldiers are training in Russia.";
        using var browser = Browser();

        var response = await browser.SendAsync(Request(HttpMethod.Post, "/claims", session.Cookie, session.CsrfToken, new { statement }));

        var problem = await RefusedAsync(response, "forbidden", statement);
        Assert.Contains("'Hromadske reader' is reader", problem.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheKeyHeaderWinsOverTheCookie()
    {
        var reporter = await SignInAsync(await KeyAsync("Reporter desk", "reporter"));
        var reader = await KeyAsync("Reader tool", "reader");
        using var browser = Browser();
        var request = Request(HttpMethod.Post, "/sources", reporter.Cookie, reporter.CsrfToken, new { name = "Hromadske", kind = "outlet" });
        request.Headers.Add("X-Api-Key", reader);

        var response = await browser.SendAsync(request);

        Assert.Contains("'Reader tool' is reader", (await response.ReadProblemAsync(HttpStatusCode.Forbidden)).Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SigningOutNeedsTheTokenEndsTheSessionAndExpiresTheCookie()
    {
        var session = await SignInAsync(await KeyAsync("Weekend desk", "reporter"));
        using var browser = Browser();

        var withoutToken = await browser.SendAsync(Request(HttpMethod.Delete, "/desk/session", session.Cookie));
        var stillIn = await browser.SendAsync(Request(HttpMethod.Get, "/claims", session.Cookie));
        var signOut = await browser.SendAsync(Request(HttpMethod.Delete, "/desk/session", session.Cookie, session.CsrfToken));
        var after = await browser.SendAsync(Request(HttpMethod.Get, "/claims", session.Cookie));
        var sessionAfter = await browser.SendAsync(Request(HttpMethod.Get, "/desk/session", session.Cookie));

        Assert.Equal("/problems/csrf-refused", (await withoutToken.ReadProblemAsync(HttpStatusCode.Forbidden)).Str("type"));
        await stillIn.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.NoContent, signOut.StatusCode);
        var (value, attributes) = SessionCookie(signOut);
        Assert.Equal("", value);
        Assert.Contains("expires=thu, 01 jan 1970 00:00:00 gmt", attributes);
        var problem = await after.ReadProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("names no live desk session", problem.Str("detail"), StringComparison.Ordinal);
        await sessionAfter.ReadProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM desk_sessions WHERE hash = @value", SHA256.HashData(Encoding.UTF8.GetBytes(session.Cookie))));
    }

    [Fact]
    public async Task ARevokedKeysSessionIs401AtOnce()
    {
        var (id, secret) = await KeyWithIdAsync("Soon revoked desk", "reporter");
        var session = await SignInAsync(secret);
        using var browser = Browser();
        await (await browser.SendAsync(Request(HttpMethod.Get, "/stats", session.Cookie))).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/admin/keys/{id}")).StatusCode);
        var response = await browser.SendAsync(Request(HttpMethod.Get, "/stats", session.Cookie));

        Assert.Contains("revoked", (await response.ReadProblemAsync(HttpStatusCode.Unauthorized)).Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithAnonymousReadsASignedOutSessionIsStill401SoThePageFindsOut()
    {
        var session = await SignInAsync(await KeyAsync("Signed-out desk", "reader"));
        using var browser = Browser();
        Assert.Equal(HttpStatusCode.NoContent, (await browser.SendAsync(Request(HttpMethod.Delete, "/desk/session", session.Cookie, session.CsrfToken))).StatusCode);
        await using var open = api.WithWebHostBuilder(b => b.UseSetting("Auth:AnonymousReads", "true"));
        using var openBrowser = open.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });

        var withCookie = await openBrowser.SendAsync(Request(HttpMethod.Get, "/claims", session.Cookie));
        var without = await openBrowser.GetAsync("/claims");

        Assert.Contains("names no live desk session", (await withCookie.ReadProblemAsync(HttpStatusCode.Unauthorized)).Str("detail"), StringComparison.Ordinal);
        await without.ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AnExpiredSessionIs401AndTheNextSignInDeletesIt()
    {
        var key = await KeyAsync("Night shift desk", "reporter");
        var session = await SignInAsync(key);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(session.Cookie));
        Assert.Equal(1, await ScalarAsync("WITH u AS (UPDATE desk_sessions SET expires_at = now() - interval '1 minute' WHERE hash = @value RETURNING 1) SELECT count(*) FROM u", hash));
        using var browser = Browser();

        var expired = await browser.SendAsync(Request(HttpMethod.Get, "/claims", session.Cookie));
        await SignInAsync(key);

        await expired.ReadProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM desk_sessions WHERE hash = @value", hash));
    }

    [Fact]
    public async Task TheBootstrapKeysSessionActsAsItAndEndsWhenTheSettingChanges()
    {
        var session = await SignInAsync(api.AdminKey);
        using var browser = Browser();

        var source = await browser.SendAsync(Request(HttpMethod.Post, "/sources", session.Cookie, session.CsrfToken, new { name = "Lloyd Austin", kind = "person" }));
        await using var rotated = api.WithWebHostBuilder(b => b.UseSetting("Auth:BootstrapAdminKey", "test-admin-rotated-" + Guid.NewGuid().ToString("N")));
        using var rotatedBrowser = rotated.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        var afterRotation = await rotatedBrowser.SendAsync(Request(HttpMethod.Get, "/stats", session.Cookie));

        Assert.Equal("bootstrap-admin", (await source.ReadJsonAsync(HttpStatusCode.Created)).Str("createdBy"));
        Assert.Equal("admin", session.Role);
        await afterRotation.ReadProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task TheLiveEventStreamWorksWithTheCookie()
    {
        var session = await SignInAsync(await KeyAsync("Live desk", "reader"));
        using var browser = Browser();

        using var response = await browser.SendAsync(Request(HttpMethod.Get, "/events/stream", session.Cookie), HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/?q=desertion&status=confirmed")]
    [InlineData("/?claim=0192b8a0-1000-7000-8000-000000000001")]
    public async Task TheDeskPageIsServedAtTheRootAsUtf8HtmlWithTheSecurityHeaders(string url)
    {
        using var browser = Browser();

        var response = await browser.GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Desk", "Page", "index.html")), await response.Content.ReadAsStringAsync());
        AssertPageHeaders(response, https: false);
    }

    [Fact]
    public async Task ThePagesScriptIsJavaScriptWithTheSecurityHeadersAndRevalidates()
    {
        using var browser = Browser(https: true);

        var script = await browser.GetAsync("/desk/desk.js");
        using var again = new HttpRequestMessage(HttpMethod.Get, "/desk/desk.js");
        again.Headers.IfNoneMatch.Add(script.Headers.ETag!);
        var unchanged = await browser.SendAsync(again);
        var page = await browser.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Desk", "Page", "desk.js")), await script.Content.ReadAsStringAsync());
        Assert.NotNull(script.Content.Headers.LastModified);
        AssertPageHeaders(script, https: true);
        Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        AssertPageHeaders(unchanged, https: true);
        AssertPageHeaders(page, https: true);
        Assert.Equal("text/css", (await browser.GetAsync("/desk/desk.css")).Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AFileThePageDoesNotHaveIs404Problem()
    {
        using var browser = Browser();

        var response = await browser.GetAsync("/desk/missing.js");

        await response.ReadProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TheSessionLastsDeskSessionHours()
    {
        await using var shortShift = api.WithWebHostBuilder(b => b.UseSetting("Desk:SessionHours", "1"));
        using var browser = shortShift.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });

        var response = await browser.PostAsJsonAsync("/desk/session", new { apiKey = api.AdminKey });

        var body = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Contains("max-age=3600", SessionCookie(response).Attributes);
        Assert.InRange(body.GetProperty("expiresAt").GetDateTime(), DateTime.UtcNow.AddMinutes(59), DateTime.UtcNow.AddMinutes(61));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("721")]
    public void DeskSessionHoursOutsideOneTo720StopsStartUp(string hours)
    {
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Claims", api.ConnectionString);
            b.UseSetting("Desk:SessionHours", hours);
        });

        var failure = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Desk:SessionHours must be between 1 and 720.", failure.ToString(), StringComparison.Ordinal);
    }

    private static void AssertPageHeaders(HttpResponseMessage response, bool https)
    {
        Assert.Equal(Csp, Single(response, "Content-Security-Policy"));
        Assert.Equal("DENY", Single(response, "X-Frame-Options"));
        Assert.Equal("no-referrer", Single(response, "Referrer-Policy"));
        Assert.Equal("same-origin", Single(response, "Cross-Origin-Opener-Policy"));
        Assert.Equal("same-origin", Single(response, "Cross-Origin-Resource-Policy"));
        Assert.Equal("camera=(), microphone=(), geolocation=()", Single(response, "Permissions-Policy"));
        Assert.Equal("nosniff", Single(response, "X-Content-Type-Options"));
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.NotNull(response.Headers.ETag);
        if (https)
        {
            Assert.Equal("max-age=31536000", Single(response, "Strict-Transport-Security"));
        }
        else
        {
            Assert.False(response.Headers.Contains("Strict-Transport-Security"));
        }
    }

    private static string Single(HttpResponseMessage response, string header) =>
        Assert.Single(response.Headers.TryGetValues(header, out var values) ? values : []);

    /// <summary>A browser that sends only what each request is given: no cookie jar, no key.</summary>
    private HttpClient Browser(bool https = false) => api.CreateClient(new WebApplicationFactoryClientOptions
    {
        HandleCookies = false,
        AllowAutoRedirect = false,
        BaseAddress = new Uri(https ? "https://localhost" : "http://localhost"),
    });

    private static HttpRequestMessage Request(HttpMethod method, string url, string cookie, string? csrfToken = null, object? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("Cookie", $"{Cookie}={cookie}");
        if (csrfToken is not null)
        {
            request.Headers.Add(CsrfHeader, csrfToken);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return request;
    }

    private sealed record Session(string Cookie, string CsrfToken, string Role, DateTime ExpiresAt);

    private async Task<Session> SignInAsync(string apiKey)
    {
        using var browser = Browser();
        var response = await browser.PostAsJsonAsync("/desk/session", new { apiKey });
        var body = await response.ReadJsonAsync(HttpStatusCode.OK);
        return new Session(SessionCookie(response).Value, body.Str("csrfToken"), body.Str("role"), body.GetProperty("expiresAt").GetDateTime());
    }

    /// <summary>The one Set-Cookie of the answer: the session cookie's value, and its attributes in lower case.</summary>
    private static (string Value, List<string> Attributes) SessionCookie(HttpResponseMessage response)
    {
        var header = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        var parts = header.Split(';', StringSplitOptions.TrimEntries);
        Assert.StartsWith(Cookie + "=", parts[0], StringComparison.Ordinal);
        return (parts[0][(Cookie.Length + 1)..], [.. parts[1..].Select(p => p.ToLowerInvariant())]);
    }

    private async Task<string> KeyAsync(string name, string role) => (await KeyWithIdAsync(name, role)).Secret;

    private async Task<(Guid Id, string Secret)> KeyWithIdAsync(string name, string role)
    {
        var body = await (await _admin.PostAsJsonAsync("/admin/keys", new { name, role })).ReadJsonAsync(HttpStatusCode.Created);
        return (body.Id(), body.Str("key"));
    }

    /// <summary>A 403 problem of the given type, after which the claim is not listed: nothing was written.</summary>
    private async Task<JsonElement> RefusedAsync(HttpResponseMessage response, string type, string statement)
    {
        var problem = await response.ReadProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal($"/problems/{type}", problem.Str("type"));
        Assert.DoesNotContain(statement, await ListedStatementsAsync());
        return problem;
    }

    private async Task<List<string>> ListedStatementsAsync()
    {
        var page = await (await _admin.GetAsync("/claims?limit=200")).ReadJsonAsync(HttpStatusCode.OK);
        return [.. page.GetProperty("items").EnumerateArray().Select(c => c.Str("statement"))];
    }

    private Task<long> ScalarAsync(string sql, object? value = null) => TestDatabase.ScalarAsync(api.ConnectionString, sql, value);
}
