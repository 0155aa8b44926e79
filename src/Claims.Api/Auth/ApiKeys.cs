using System.Globalization;
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Claims.Api.Errors;
using Claims.Api.Http;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Auth;

/// <summary>An API key as the API sees it after checking the secret.</summary>
public sealed record KeyIdentity(string Id, string Name, Role Role);

/// <summary>What checking a key found: who it is; or nothing, the key being malformed, unknown or revoked; or that the caller's address must wait first.</summary>
public readonly record struct KeyCheck(KeyIdentity? Identity, TimeSpan? Wait);

/// <summary>Makes, hashes and looks up API keys.</summary>
public sealed class ApiKeyStore(NpgsqlDataSource db, KeyCache cache, IOptionsMonitor<AuthOptions> options, FailedAuthentications failures)
{
    public const string Header = Caller.KeyHeader;
    public const string BootstrapName = "bootstrap-admin";

    /// <summary>A new secret: 32 random bytes, base64url, with a prefix that says what it is.</summary>
    public static string NewSecret() => "clm_" + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>A key this instance accepts without asking the database: the bootstrap key, or one it found moments ago.</summary>
    public KeyIdentity? Recall(string secret, out byte[] hash)
    {
        hash = Hash(secret);
        return IsBootstrap(hash) ? new KeyIdentity(BootstrapId, BootstrapName, Role.Admin) : cache.Known(KeyCache.KeyOf(hash));
    }

    public const string BootstrapId = "bootstrap";

    /// <summary>Whether the hash is the bootstrap key's, as the instance is configured now.</summary>
    public bool IsBootstrap(byte[] hash) => BootstrapHash() is { } bootstrap && CryptographicOperations.FixedTimeEquals(hash, bootstrap);

    /// <summary>
    /// Checks a key wherever it was sent (the X-Api-Key header, the desk's sign-in): a key this
    /// instance knows passes at once; otherwise, unless the address has used up its failed
    /// authentications, the database is asked, and a failure is counted against the address.
    /// </summary>
    public async Task<KeyCheck> CheckAsync(string secret, IPAddress? address, CancellationToken ct)
    {
        if (Recall(secret, out var hash) is { } known)
        {
            return new KeyCheck(known, null);
        }

        if (failures.Refuses(address) is { } wait)
        {
            return new KeyCheck(null, wait);
        }

        var found = await LookUpAsync(secret, hash, ct);
        if (found is null)
        {
            failures.Record(address);
        }

        return new KeyCheck(found, null);
    }

    /// <summary>Checks a key that <see cref="Recall"/> did not know; null when it is malformed, unknown or revoked.</summary>
    public async Task<KeyIdentity?> LookUpAsync(string secret, byte[] hash, CancellationToken ct)
    {
        // Only secrets of the shape NewSecret makes can be in the table: anything else is refused
        // without a query, so made-up keys cannot keep the database busy.
        if (!LooksIssued(secret))
        {
            return null;
        }

        var cacheKey = KeyCache.KeyOf(hash);
        if (cache.IsUnknown(cacheKey))
        {
            return null;
        }

        var generation = cache.Generation;
        await using var connection = await db.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<(Guid Id, string Name, string Role)?>(new CommandDefinition(
            "SELECT id, name, role FROM api_keys WHERE hash = @hash AND revoked_at IS NULL", new { hash }, cancellationToken: ct));
        if (row is not { } key)
        {
            cache.RememberUnknown(cacheKey, generation);
            return null;
        }

        var identity = new KeyIdentity(key.Id.ToString(), key.Name, Enum.Parse<Role>(key.Role, ignoreCase: true));
        cache.RememberKnown(cacheKey, identity, generation);
        return identity;
    }

    /// <summary>Forgets a key on this instance at once; the others hear of it from the database.</summary>
    public void Forget(byte[] hash) => cache.Forget(KeyCache.KeyOf(hash));

    private static bool LooksIssued(string secret) =>
        secret.Length == 4 + 43 && secret.StartsWith("clm_", StringComparison.Ordinal)
        && secret.AsSpan(4).IndexOfAnyExcept(IssuedCharacters) < 0;

    private static readonly System.Buffers.SearchValues<char> IssuedCharacters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    private BootstrapKey? _bootstrap;

    /// <summary>The bootstrap key's hash, computed again only when the setting changes.</summary>
    private byte[]? BootstrapHash()
    {
        var configured = options.CurrentValue.BootstrapAdminKey;
        if (string.IsNullOrEmpty(configured))
        {
            return null;
        }

        var known = _bootstrap;
        if (known is null || known.Secret != configured)
        {
            known = new BootstrapKey(configured, Hash(configured));
            _bootstrap = known;
        }

        return known.Hash;
    }

    private sealed record BootstrapKey(string Secret, byte[] Hash);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Authenticates the X-Api-Key header (never the query string, which ends up in logs).</summary>
public sealed class ApiKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(ApiKeyStore.Header, out var values) || values.Count == 0 || string.IsNullOrEmpty(values[0]))
        {
            return AuthenticateResult.NoResult();
        }

        // Several values, or one too long to be a key, match nothing: the empty secret stands for them.
        var secret = values.Count == 1 && values[0]!.Length <= 200 ? values[0]! : "";
        var check = await keys.CheckAsync(secret, Context.Connection.RemoteIpAddress, Context.RequestAborted);
        if (check.Wait is { } wait)
        {
            Context.Items[FailedAuthentications.Refused] = wait;
            return AuthenticateResult.Fail("Too many failed authentications from this address.");
        }

        return check.Identity is { } identity
            ? AuthenticateResult.Success(new AuthenticationTicket(Principal(identity, SchemeName), SchemeName))
            : AuthenticateResult.Fail("Unknown or revoked API key.");
    }

    /// <summary>The principal of a key, whichever way it was presented: what roles, rate limits, authors and idempotency read.</summary>
    public static ClaimsPrincipal Principal(KeyIdentity identity, string scheme) => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, identity.Id),
            new Claim(ClaimTypes.Name, identity.Name),
            new Claim(ClaimTypes.Role, identity.Role.ToString()),
        ],
        scheme));
}

/// <summary>Writes 401, 403 and the 429 of too many failed authentications as problems that say what to do.</summary>
public sealed class AccessProblems(IProblemDetailsService problems, FailedAuthentications failures) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Succeeded)
        {
            await _default.HandleAsync(next, context, policy, result);
            return;
        }

        if (context.Items.TryGetValue(FailedAuthentications.Refused, out var refused) && refused is TimeSpan wait)
        {
            await problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = TooManyFailures(context.Response, wait, failures) });
            return;
        }

        var required = policy.Requirements.OfType<RoleRequirement>().Select(r => r.Minimum).DefaultIfEmpty(Role.Reader).Max();
        var role = Access.RoleOf(context.User);
        var (type, detail) = role is null
            ? (ProblemTypes.Unauthenticated,
                context.Request.Headers.ContainsKey(ApiKeyStore.Header)
                    ? $"The {ApiKeyStore.Header} header holds no valid key: it is unknown or revoked."
                    : context.Request.Cookies.ContainsKey(Caller.SessionCookie)
                        ? $"The {Caller.SessionCookie} cookie names no live desk session: it expired, was signed out, or its key was revoked. Sign in again with POST /desk/session, or send a key in the {ApiKeyStore.Header} header."
                        : $"Send your key in the {ApiKeyStore.Header} header. This needs the role {required.ToString().ToLowerInvariant()} or higher.")
            : (ProblemTypes.Forbidden,
                $"This needs the role {required.ToString().ToLowerInvariant()} or higher; the key '{Caller.Name(context.User)}' is {role.Value.ToString().ToLowerInvariant()}.");

        context.Response.StatusCode = type.Status;
        if (type == ProblemTypes.Unauthenticated)
        {
            context.Response.Headers.WWWAuthenticate = $"{ApiKeyHandler.SchemeName} header=\"{ApiKeyStore.Header}\"";
        }

        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = type.Details(detail),
        });
    }

    /// <summary>The 429 of too many failed authentications: its status and Retry-After on the response, and the problem to write.</summary>
    public static ProblemDetails TooManyFailures(HttpResponse response, TimeSpan wait, FailedAuthentications failures)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return ProblemTypes.TooManyFailedKeys.Details(
            $"Too many failed authentications from this address (the limit is {failures.PerMinute} a minute), so its keys are not checked for now. Retry in {seconds} s.");
    }
}
