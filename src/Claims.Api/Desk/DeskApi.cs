using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Claims.Api.Auth;
using Claims.Api.Errors;
using Claims.Api.Http;
using Claims.Api.OpenApi;
using Claims.Api.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Claims.Api.Desk;

public sealed record DeskSignIn(
    [property: Description("An API key (clm_ and 43 more characters), sent this once: the page does not keep it."), Required, MaxLength(200)] string? ApiKey);

public sealed class DeskSignInValidator : AbstractValidator<DeskSignIn>
{
    public DeskSignInValidator() => RuleFor(r => r.ApiKey).RequiredText(200);
}

/// <summary>A desk session as the page sees it: who signed in, and the token its writes must carry.</summary>
public sealed record DeskSession(
    [property: Description("The key's name: the author recorded for the session's writes."), MaxLength(100)] string Name,
    [property: Description("The key's role: what the page may offer (the API enforces it anyway).")] Role Role,
    [property: Description("Send it in the X-CSRF-Token header with every request that may change something (any method but GET, HEAD and OPTIONS)."), MaxLength(43)] string CsrfToken,
    [property: Description("When the session ends; the cookie expires then too.")] DateTime ExpiresAt);

/// <summary>A session of the verification desk.</summary>
internal sealed class DeskExamples : IOpenApiExamples
{
    public void Register(OpenApiExampleRegistry examples) => examples
        .Add(new DeskSignIn("clm_example-secret-shown-once-0000000000000000000"))
        .Add(new DeskSession("verification-desk", Role.Editor, "Xq3v0a8N2kR1tYb5LwE7cH9mJ4pS6dF0gZ2uV8iO1nA", new DateTime(2024, 10, 24, 2, 5, 0, DateTimeKind.Utc)));
}

/// <summary>
/// The desk's sign-in: the page at / sends an API key once and gets an HttpOnly session cookie in
/// return, so that no script on the page ever holds the key. The session then stands for the key
/// (<see cref="DeskSessionHandler"/>); its writes carry the CSRF token (<see cref="DeskSessions.UseDeskCsrfCheck"/>).
/// </summary>
public static class DeskApi
{
    private const string Cookie = Caller.SessionCookie;

    private const string HowItWorks =
        $"For the desk, the web page at /. With the {Cookie} cookie and no X-Api-Key header, a request acts as the key that signed in; "
        + $"one that may change something (any method but GET, HEAD and OPTIONS) must also carry the session's csrfToken in {DeskSessions.CsrfHeader} "
        + "and, if it sends Origin, come from the API's own origin, or it is refused with 403 csrf-refused. "
        + "The other operations are documented with the X-Api-Key scheme only: the cookie is for the desk's page.";

    public static IServiceCollection AddDesk(this IServiceCollection services, IConfiguration configuration) =>
        services.AddDeskSessions(configuration);

    public static RouteGroupBuilder MapDesk(this IEndpointRouteBuilder app)
    {
        // No key needed: signing in is how the page gets one's powers, and the other two go by the cookie.
        var group = app.MapGroup("/desk/session").WithTags("Desk").AllowAnonymous();

        group.MapPost("", SignIn).WithName(nameof(SignIn)).WithMetadata(new SignInMetadata())
            .WithSummary("Sign the desk in with an API key, for a session cookie")
            .WithDescription(
                $"Checks the key as the X-Api-Key header is checked (failed sign-ins count against the address alike), then sets the cookie {Cookie} "
                + "(HttpOnly, SameSite=Strict, Path=/, Secure over https, expiring with the session after Desk:SessionHours) and answers the session with its csrfToken. "
                + $"A cookie the request already had names a session this one replaces. An unknown or revoked key is 401, and no cookie is set. {HowItWorks}")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        group.MapGet("", GetSession).WithName(nameof(GetSession))
            .WithSummary("The desk's current session, with its csrfToken")
            .WithDescription($"What a reloaded page asks to learn who is signed in and to get the session's csrfToken back. 401 when the {Cookie} cookie names no live session (it expired, was signed out, or its key was revoked). {HowItWorks}")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        group.MapDelete("", SignOut).WithName(nameof(SignOut))
            .WithSummary("Sign the desk out: end the session on the server")
            .WithDescription($"The session's cookie is refused from now on, and the answer expires it. Without a live session there is nothing to end, and the answer is the same. {HowItWorks}")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return group;
    }

    public static async Task<Results<Ok<DeskSession>, ProblemHttpResult>> SignIn(
        DeskSignIn request, HttpContext http, ApiKeyStore keys, FailedAuthentications failures, DeskSessionStore sessions, CancellationToken ct)
    {
        // A key pasted into a field may come with a space or a line break around it; keys have none.
        var secret = request.ApiKey!.Trim();
        var check = await keys.CheckAsync(secret, http.Connection.RemoteIpAddress, ct);
        if (check.Wait is { } wait)
        {
            return TypedResults.Problem(AccessProblems.TooManyFailures(http.Response, wait, failures));
        }

        if (check.Identity is not { } key)
        {
            http.Response.Headers.WWWAuthenticate = $"{ApiKeyHandler.SchemeName} header=\"{ApiKeyStore.Header}\"";
            return ProblemTypes.Unauthenticated.Result("The API key is unknown or revoked, so no session was started. Paste the key exactly as it was given (clm_ and 43 more characters), or ask an administrator for a new one.");
        }

        var (cookie, session) = await sessions.StartAsync(key, ApiKeyStore.Hash(secret), http.Request.Cookies[Cookie], ct);
        http.Response.Cookies.Append(Cookie, cookie, CookieOptions(http.Request, session.ExpiresAt, sessions.Lifetime));
        return Private(http, TypedResults.Ok(session.ToAnswer()));
    }

    public static Results<Ok<DeskSession>, ProblemHttpResult> GetSession(HttpContext http)
    {
        if (DeskSessions.Of(http) is { } session)
        {
            return Private(http, TypedResults.Ok(session.ToAnswer()));
        }

        string detail;
        if (http.Request.Headers.ContainsKey(ApiKeyStore.Header))
        {
            detail = $"The request sends an X-Api-Key header, which wins over the {Cookie} cookie: a desk session is only read from a request without one.";
        }
        else if (http.Request.Cookies.ContainsKey(Cookie))
        {
            // The browser may as well forget a cookie that no longer opens anything.
            ExpireCookie(http);
            detail = $"The {Cookie} cookie names no live session: it expired, was signed out, or its key was revoked. Sign in again with POST /desk/session.";
        }
        else
        {
            detail = $"There is no desk session: sign in with POST /desk/session, which sets the {Cookie} cookie.";
        }

        http.Response.Headers.WWWAuthenticate = $"{ApiKeyHandler.SchemeName} header=\"{ApiKeyStore.Header}\"";
        return ProblemTypes.Unauthenticated.Result(detail);
    }

    public static async Task<NoContent> SignOut(HttpContext http, DeskSessionStore sessions, CancellationToken ct)
    {
        if (DeskSessions.Of(http) is { } session)
        {
            await sessions.EndAsync(session.Hash, ct);
        }

        ExpireCookie(http);
        return TypedResults.NoContent();
    }

    private static CookieOptions CookieOptions(HttpRequest request, DateTime expiresAt, TimeSpan lifetime) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        // Over plain http (dotnet run on localhost) a Secure cookie would never come back.
        Secure = request.IsHttps,
        Path = "/",
        Expires = expiresAt,
        MaxAge = lifetime,
    };

    private static void ExpireCookie(HttpContext http) =>
        http.Response.Cookies.Delete(Cookie, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = http.Request.IsHttps, Path = "/" });

    /// <summary>The answer holds the CSRF token: no cache keeps it.</summary>
    private static T Private<T>(HttpContext http, T result)
    {
        http.Response.Headers.CacheControl = "no-store";
        return result;
    }
}
