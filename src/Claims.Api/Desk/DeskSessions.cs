using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Claims.Api.Auth;
using Claims.Api.Data;
using Claims.Api.Errors;
using Claims.Api.Http;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Desk;

public sealed class DeskOptions
{
    /// <summary>How long a desk session lasts from sign-in: a shift. 1 to 720.</summary>
    public int SessionHours { get; set; } = 12;
}

/// <summary>A live desk session, as its look-up found it.</summary>
public sealed record DeskSessionRecord(byte[] Hash, KeyIdentity Key, string CsrfToken, DateTime ExpiresAt)
{
    public DeskSession ToAnswer() => new(Key.Name, Key.Role, CsrfToken, ExpiresAt);
}

/// <summary>
/// Desk sessions in the database (db/0013_desk_sessions.sql). The cookie's value is 32 random
/// bytes; only its SHA-256 is stored, as for keys. Nothing is cached: each request's look-up also
/// reads whether the key was revoked, in the same query, so that a revoked key's sessions stop at
/// once on every instance.
/// </summary>
public sealed class DeskSessionStore(NpgsqlDataSource db, ApiKeyStore keys, IOptionsMonitor<DeskOptions> options)
{
    /// <summary>The cookie's value and the CSRF token: 32 random bytes, base64url without padding.</summary>
    public static string NewSecret() => System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string cookie) => SHA256.HashData(Encoding.UTF8.GetBytes(cookie));

    /// <summary>Only values of the shape <see cref="NewSecret"/> makes are looked up, so made-up cookies cost no query.</summary>
    public static bool LooksIssued(string cookie) =>
        cookie.Length == 43 && cookie.AsSpan().IndexOfAnyExcept(Base64UrlCharacters) < 0;

    private static readonly System.Buffers.SearchValues<char> Base64UrlCharacters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    public TimeSpan Lifetime => TimeSpan.FromHours(options.CurrentValue.SessionHours);

    /// <summary>
    /// Starts a session for a key that was just checked, and returns the cookie's value with the
    /// session. The same statement deletes the sessions that have expired, so that they do not
    /// pile up without a loop of their own, and the session the request's old cookie named, which
    /// this one replaces.
    /// </summary>
    public async Task<(string Cookie, DeskSessionRecord Session)> StartAsync(KeyIdentity key, byte[] keyHash, string? replacedCookie, CancellationToken ct)
    {
        var cookie = NewSecret();
        var csrfToken = NewSecret();
        var hash = Hash(cookie);
        var bootstrap = key.Id == ApiKeyStore.BootstrapId;
        await using var connection = await db.OpenConnectionAsync(ct);
        // A transaction of one statement, so that only its COMMIT can leave the outcome unknown (504).
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        var expiresAt = await connection.QuerySingleAsync<DateTime>(new CommandDefinition(
            """
            WITH ended AS (
                DELETE FROM desk_sessions WHERE expires_at <= now() OR hash = @replaced
            )
            INSERT INTO desk_sessions (hash, key_id, bootstrap_hash, key_name, key_role, csrf_token, expires_at)
            VALUES (@hash, @keyId, @bootstrapHash, @name, @role, @csrfToken, now() + @lifetime)
            RETURNING expires_at
            """,
            new
            {
                replaced = replacedCookie is not null && LooksIssued(replacedCookie) ? Hash(replacedCookie) : [],
                hash,
                keyId = bootstrap ? (Guid?)null : Guid.Parse(key.Id),
                bootstrapHash = bootstrap ? keyHash : null,
                name = key.Name,
                role = key.Role.ToString().ToLowerInvariant(),
                csrfToken,
                lifetime = Lifetime,
            },
            transaction, cancellationToken: ct));
        await commit.RunAsync();
        return (cookie, new DeskSessionRecord(hash, key, csrfToken, expiresAt));
    }

    /// <summary>The live session a cookie names, or null: unknown, signed out, expired, or its key revoked or deleted.</summary>
    public async Task<DeskSessionRecord?> FindAsync(string cookie, CancellationToken ct)
    {
        var hash = Hash(cookie);
        await using var connection = await db.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<SessionRow>(new CommandDefinition(
            """
            SELECT s.key_id, s.bootstrap_hash, s.key_name, s.key_role, s.csrf_token, s.expires_at
            FROM desk_sessions s
            WHERE s.hash = @hash AND s.expires_at > now()
              AND (s.key_id IS NULL OR EXISTS (SELECT FROM api_keys k WHERE k.id = s.key_id AND k.revoked_at IS NULL))
            """,
            new { hash }, cancellationToken: ct));
        if (row is null)
        {
            return null;
        }

        // The bootstrap key is a setting: once it is changed or removed, its sessions end too.
        if (row.KeyId is null && (row.BootstrapHash is null || !keys.IsBootstrap(row.BootstrapHash)))
        {
            return null;
        }

        var identity = new KeyIdentity(row.KeyId?.ToString() ?? ApiKeyStore.BootstrapId, row.KeyName, Enum.Parse<Role>(row.KeyRole, ignoreCase: true));
        return new DeskSessionRecord(hash, identity, row.CsrfToken, row.ExpiresAt);
    }

    /// <summary>Ends a session on the server: its cookie is refused from now on, on every instance.</summary>
    public async Task EndAsync(byte[] hash, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM desk_sessions WHERE hash = @hash", new { hash }, transaction, cancellationToken: ct));
        await commit.RunAsync();
    }

    private sealed record SessionRow(Guid? KeyId, byte[]? BootstrapHash, string KeyName, string KeyRole, string CsrfToken, DateTime ExpiresAt);
}

/// <summary>
/// Authenticates the desk's session cookie as the key that signed in: the same principal as
/// <see cref="ApiKeyHandler"/> makes, so that roles, rate limits, authors and idempotency work
/// unchanged. Only asked when the request has no key header (see <see cref="DeskSessions.CallerScheme"/>).
/// </summary>
public sealed class DeskSessionHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, DeskSessionStore sessions, FailedAuthentications failures)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "DeskSession";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Cookies.TryGetValue(Caller.SessionCookie, out var cookie) || string.IsNullOrEmpty(cookie))
        {
            return AuthenticateResult.NoResult();
        }

        // Counted like keys: guessing sessions costs the guesser, not the database.
        var address = Context.Connection.RemoteIpAddress;
        if (failures.Refuses(address) is { } wait)
        {
            Context.Items[FailedAuthentications.Refused] = wait;
            return AuthenticateResult.Fail("Too many failed authentications from this address.");
        }

        var session = DeskSessionStore.LooksIssued(cookie) ? await sessions.FindAsync(cookie, Context.RequestAborted) : null;
        if (session is null)
        {
            failures.Record(address);
            return AuthenticateResult.Fail("The session cookie names no live session.");
        }

        Context.Items[DeskSessions.Current] = session;
        return AuthenticateResult.Success(new AuthenticationTicket(ApiKeyHandler.Principal(session.Key, SchemeName), SchemeName));
    }
}

/// <summary>How the desk's sessions fit into authentication, and the check that keeps other sites from using them.</summary>
public static class DeskSessions
{
    /// <summary>The default scheme: the key header when there is one, else the session cookie when there is one.</summary>
    public const string CallerScheme = "KeyOrDeskSession";

    /// <summary>The request header that must carry the session's CSRF token on every request that may change something.</summary>
    public const string CsrfHeader = "X-CSRF-Token";

    /// <summary>The <see cref="HttpContext.Items"/> entry of the request's session, a <see cref="DeskSessionRecord"/>.</summary>
    public static readonly object Current = new();

    /// <summary>The session the request's cookie named, when the cookie authenticated it.</summary>
    public static DeskSessionRecord? Of(HttpContext http) => http.Items.TryGetValue(Current, out var session) ? session as DeskSessionRecord : null;

    public static IServiceCollection AddDeskSessions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DeskOptions>().Bind(configuration.GetSection("Desk"))
            .Validate(o => o.SessionHours is >= 1 and <= 720, "Desk:SessionHours must be between 1 and 720.")
            .ValidateOnStart();
        services.AddSingleton<DeskSessionStore>();
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, DeskSessionHandler>(DeskSessionHandler.SchemeName, null)
            // X-Api-Key wins when both are sent: a tool's key is never overridden by a cookie a
            // browser happens to hold.
            .AddPolicyScheme(CallerScheme, null, scheme => scheme.ForwardDefaultSelector = http =>
                http.Request.Headers.ContainsKey(Caller.KeyHeader) || !http.Request.Cookies.ContainsKey(Caller.SessionCookie)
                    ? ApiKeyHandler.SchemeName
                    : DeskSessionHandler.SchemeName);
        // After every Configure, whatever the order of the Add calls: Auth/ makes the key scheme the
        // default, and with the desk the default chooses between the key and the session.
        services.PostConfigure<AuthenticationOptions>(o => o.DefaultScheme = CallerScheme);
        return services;
    }

    /// <summary>
    /// Refuses a request that a cookie authenticated and that may change something (any method but
    /// GET, HEAD and OPTIONS) unless it carries the session's token in <see cref="CsrfHeader"/> and,
    /// when it sends an Origin, comes from this origin. A browser attaches the cookie to requests
    /// other sites make it send; it never lets them read the token or set this header without a
    /// preflight, which CORS does not grant. Requests with a key header are not affected: no
    /// browser sends one by itself. Sign-in is checked for its Origin only, since it acts with
    /// the key in its body rather than the cookie.
    /// </summary>
    public static IApplicationBuilder UseDeskCsrfCheck(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var method = http.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method))
        {
            await next(http);
            return;
        }

        var session = Of(http);
        var signIn = http.GetEndpoint()?.Metadata.GetMetadata<SignInMetadata>() is not null;
        var refusal = (session is not null || signIn) && !SameOrigin(http.Request)
            ? $"The request comes from {http.Request.Headers.Origin}, another origin than this API's; the desk's session works only from the desk's own page."
            : session is null || signIn ? null
            : !http.Request.Headers.TryGetValue(CsrfHeader, out var sent) || sent.Count != 1 || string.IsNullOrEmpty(sent[0])
                ? $"A request with the desk's session cookie that may change something must carry the session's csrfToken (from POST or GET /desk/session) in the {CsrfHeader} header; it has none."
                : !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(sent[0]!), Encoding.UTF8.GetBytes(session.CsrfToken))
                    ? $"The {CsrfHeader} header is not this session's csrfToken. Read it again with GET /desk/session and send it in {CsrfHeader}."
                    : null;
        if (refusal is null)
        {
            await next(http);
            return;
        }

        http.Response.StatusCode = ProblemTypes.CsrfRefused.Status;
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = ProblemTypes.CsrfRefused.Details(refusal),
        });
    });

    /// <summary>No Origin header (not sent by a browser, or a same-origin GET), or this request's own scheme, host and port.</summary>
    private static bool SameOrigin(HttpRequest request)
    {
        if (!request.Headers.TryGetValue("Origin", out var origins))
        {
            return true;
        }

        return origins.Count == 1
            && Uri.TryCreate(origins[0], UriKind.Absolute, out var origin)
            && Uri.TryCreate($"{request.Scheme}://{request.Host.Value}", UriKind.Absolute, out var own)
            && Uri.Compare(origin, own, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
    }
}

/// <summary>Marks the sign-in, which the CSRF check asks only for its Origin.</summary>
public sealed class SignInMetadata;
