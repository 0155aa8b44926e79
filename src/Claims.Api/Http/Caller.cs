using System.Security.Claims;

namespace Claims.Api.Http;

/// <summary>
/// Who is calling, as the HTTP rules need it (rate limits, idempotency, CORS, Vary) and the
/// features record it (authors): read from the principal authentication made, with the
/// standard claim types, so that nothing here depends on how keys are checked.
/// </summary>
public static class Caller
{
    /// <summary>The request header that carries the API key.</summary>
    public const string KeyHeader = "X-Api-Key";

    /// <summary>The cookie of a desk session (Desk/), which stands for the key that signed in when no key header is sent.</summary>
    public const string SessionCookie = "claims_session";

    /// <summary>Whether the request presents credentials of its own, a key or a session, valid or not.</summary>
    public static bool SentCredentials(HttpRequest request) =>
        request.Headers.ContainsKey(KeyHeader) || request.Cookies.ContainsKey(SessionCookie);

    /// <summary>The key's name, recorded as the author of a write.</summary>
    public static string? Name(ClaimsPrincipal user) => user.Identity?.IsAuthenticated == true ? user.Identity.Name : null;

    /// <summary>What idempotency keys and rate limits are scoped to: the API key's id.</summary>
    public static string? KeyId(ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier);
}
