using System.Text;
using Claims.Api.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Claims.Api.Errors;

/// <summary>
/// One kind of error the API answers. Its <see cref="Uri"/> is the problem's <c>type</c>, a
/// relative reference that the API itself serves as a page; the title is the same every time, and
/// what varies (which id, which field, how many) goes into <c>detail</c>.
/// </summary>
public sealed record ProblemType(string Slug, int Status, string Title, string Explanation)
{
    public const string Prefix = "/problems/";

    public string Uri => Prefix + Slug;

    /// <summary>A problem of this type, for middleware and the exception handler to write.</summary>
    public ProblemDetails Details(string? detail = null, IDictionary<string, object?>? extensions = null)
    {
        var problem = new ProblemDetails { Type = Uri, Status = Status, Title = Title, Detail = detail };
        foreach (var (name, value) in extensions ?? new Dictionary<string, object?>())
        {
            problem.Extensions[name] = value;
        }

        return problem;
    }

    /// <summary>A problem of this type for a handler to return.</summary>
    public ProblemHttpResult Result(string? detail = null, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(Details(detail, extensions));
}

/// <summary>
/// The catalogue of every problem the API answers with. The README's table, the pages under
/// /problems and the OpenAPI document are all made from this list (a test holds the README to it).
/// </summary>
public static class ProblemTypes
{
    public static readonly ProblemType InvalidRequest = new("invalid-request", 400, "The request is not valid.",
        "A parameter or a field of the body breaks a documented rule: a required value is missing, a value is too long, out of range or not one of the allowed values, a number or date does not parse, a cursor was edited or belongs to another query, or an id in the body names nothing. `errors` lists each offending field (JSON paths in camelCase, such as `evidence[0].sourceId`) with what it must be. Fix those fields and send the request again; sent unchanged, it gets the same answer.");

    public static readonly ProblemType MalformedJson = new("malformed-json", 400, "The request body could not be read as JSON.",
        "The body is not well-formed JSON, a value has the wrong JSON type (a string where a number belongs), a property appears twice, or the body has a property the request does not document (read-only fields such as id, status or version cannot be set). `errors` names the place. Send one JSON object with only the documented fields, encoded as UTF-8.");

    public static readonly ProblemType InvalidIdempotencyKey = new("invalid-idempotency-key", 400, "The Idempotency-Key header is not valid.",
        $"Idempotency-Key must be a single key of 1 to {Idempotency.MaxKeyLength} printable characters; a fresh UUID per logical request is a good choice. Fix the header, or leave it out if the request does not need safe retries.");

    public static readonly ProblemType ValueRefused = new("value-refused", 400, "The database refused a value.",
        "A value got past validation but breaks one of the database's own rules (a length, a format or an allowed value). Nothing was changed. Check the request against the documented schema; if it looks right, report it with the requestId, since validation should have said what was wrong.");

    public static readonly ProblemType BadRequest = new("bad-request", 400, "The request could not be read.",
        "The request is malformed in a way that no more specific problem describes; detail says how. Fix the request; sent unchanged, it gets the same answer.");

    public static readonly ProblemType WebhookUrlRefused = new("webhook-url-refused", 400, "The webhook URL may not be called.",
        "A webhook receiver must be an https URL whose host resolves only to public addresses: loopback, private, link-local, shared (100.64/10), multicast and unspecified addresses are refused, so that webhooks cannot reach into the network the API runs in; so are hosts that do not resolve. detail says which rule the URL broke. Nothing was stored. Register a public https URL.");

    public static readonly ProblemType Unauthenticated = new("unauthenticated", 401, "An API key is required.",
        "The request has no X-Api-Key header, or the key it holds is unknown or revoked; or, from the desk's page, its session cookie names no live session (it expired, was signed out, or its key was revoked). Send a valid key in X-Api-Key, or sign the desk in again with POST /desk/session. An administrator mints keys with POST /admin/keys or the `keys create` verb; the secret is shown only once.");

    public static readonly ProblemType Forbidden = new("forbidden", 403, "The key's role does not allow this.",
        "The key is valid, but its role (reader, reporter, editor, admin, in that order) is below what the operation needs; detail names both. Use a key with a role high enough, or ask an administrator for one.");

    public static readonly ProblemType CsrfRefused = new("csrf-refused", 403, "The request may be forged by another site.",
        $"The request carries the desk's session cookie ({Caller.SessionCookie}) and may change something (any method but GET, HEAD and OPTIONS), so it must show that the desk's own page sent it: the `{Desk.DeskSessions.CsrfHeader}` header must hold the session's `csrfToken`, and an `Origin` header, when sent, must be the API's own origin. detail says which was missing or wrong. Nothing was changed. Send the `csrfToken` that POST /desk/session answered (GET /desk/session gives it again) in `{Desk.DeskSessions.CsrfHeader}`; requests with an X-Api-Key header are not affected.");

    public static readonly ProblemType NotFound = new("not-found", 404, "The resource does not exist.",
        "Nothing has the id in the URL (it may have been deleted, or the id is not a UUID), or no endpoint has this path. Check the id and the path; listing the collection shows what exists.");

    public static readonly ProblemType MethodNotAllowed = new("method-not-allowed", 405, "The method is not allowed here.",
        "The path exists but does not take this HTTP method; the Allow header lists the methods it takes, and so does the OpenAPI document.");

    public static readonly ProblemType RequestTimeout = new("request-timeout", 408, "The request body arrived too slowly.",
        "The server stopped waiting for the rest of the body because it came in below the minimum data rate. Nothing was changed. Send the request again, with the whole body at once.");

    public static readonly ProblemType ConfirmNeedsSupport = new("confirm-needs-support", 409, "A claim can be confirmed only with supporting evidence.",
        "Moving a claim to confirmed needs at least one evidence item whose stance is 'supports', and the claim has none. Nothing was changed. Link the corroborating source with POST /claims/{id}/evidence, then move the status again with the claim's new ETag in If-Match.");

    public static readonly ProblemType FalseNeedsRefutation = new("false-needs-refutation", 409, "A claim can be marked false only with refuting evidence.",
        "Moving a claim to false needs at least one evidence item whose stance is 'refutes', and the claim has none. Nothing was changed. Link the contradicting source with POST /claims/{id}/evidence, then move the status again with the claim's new ETag in If-Match.");

    public static readonly ProblemType ConfirmNeedsIndependentSupport = new("confirm-needs-independent-support", 409, "A claim can be confirmed only with support independent of its asserters.",
        "The claim has 'supports' evidence, but every item's origin is one of the claim's asserters: the same source, or one joined to it by 'affiliated_with' or 'derived_from' relations, following each item's viaSourceIds to its end. A claim is not corroborated by its asserter saying it again. Nothing was changed. `discounted` lists each item that did not count and why. Link a source that corroborates the claim on its own account; a desk that does not record provenance can turn the rule off (Claims:IndependentOrigins).");

    public static readonly ProblemType FalseNeedsIndependentRefutation = new("false-needs-independent-refutation", 409, "A claim can be marked false only with refutation independent of its asserters.",
        "The claim has 'refutes' evidence, but every item's origin is one of the claim's asserters (the same source, or one joined to it by 'affiliated_with' or 'derived_from' relations). Nothing was changed. `discounted` lists each item that did not count and why. Link a source that contradicts the claim on its own account; a desk that does not record provenance can turn the rule off (Claims:IndependentOrigins).");

    public static readonly ProblemType VerdictRestsOnEvidence = new("verdict-rests-on-evidence", 409, "The claim's verdict rests on this evidence.",
        "The claim is confirmed (or false) and this is its last 'supports' (or 'refutes') evidence item, or the last one independent of the claim's asserters: removing it would leave the verdict without grounds. Nothing was changed. Change the claim's status first, or add other evidence with that stance, then remove this one.");

    public static readonly ProblemType NoteNeedsStatusChange = new("note-needs-status-change", 409, "The claim already has this status; the new note was not stored.",
        "A note is recorded with a move to another status (the history holds one entry per move), so a different note on the status the claim already has cannot be stored. Nothing was changed; `current` holds the claim's status as stored. Send the note with the move it explains.");

    public static readonly ProblemType SourceStillCited = new("source-still-cited", 409, "The source is still cited.",
        "Evidence items still refer to the source, so deleting it would leave claims with evidence from nowhere; detail says how many. Nothing was changed. Remove those evidence items from their claims first (GET /sources/{id}/claims lists the claims), then delete the source.");

    public static readonly ProblemType PossibleDuplicates = new("possible-duplicates", 409, "Near-duplicates of this claim are logged already.",
        "The request asked POST /claims to check for duplicates first (checkDuplicates: true), and logged claims have statements at least `minScore` similar to this one (the setting Claims:DuplicateScore, 0.6 by default). Nothing was stored. `duplicates` lists up to 5 of them, best first, as GET /claims/similar gives them: each a `score` from 0 to 1, the `claim`, and the `suggested` duplicate_of relation. Add your evidence to one of them (POST /claims/{id}/evidence), or log the claim and record it as a duplicate, or send the request again without checkDuplicates to log the claim anyway; the same Idempotency-Key may be used for that, since a refusal uses up no key.");

    public static readonly ProblemType DuplicateCycle = new("duplicate-cycle", 409, "The duplicate_of relation would close a cycle.",
        "The related claim is a duplicate of the claim in the path, directly or through a chain of duplicate_of relations, so recording the claim as its duplicate would leave neither canonical. Nothing was changed. Record the relation the other way, or remove the existing one first (GET /claims/{id}/relations lists them).");

    public static readonly ProblemType ClaimIsDuplicate = new("claim-is-duplicate", 409, "The claim is a duplicate; its canonical's status counts.",
        "The claim is recorded as a duplicate of another (duplicate_of), whose status is authoritative: its status look-up answers that claim's status, named in canonicalClaimId, and that claim's verdict is the one published. Nothing was changed. Change or publish the canonical claim's status, or remove the duplicate_of relation first if the claims are not the same.");

    public static readonly ProblemType WebhookDisabled = new("webhook-disabled", 409, "The webhook is disabled.",
        "The subscription was disabled (its receiver answered 410 Gone, or its deliveries failed for days; detail says which and when), so nothing is sent to it. Nothing was changed. Register the receiver again with POST /webhooks once it works.");

    public static readonly ProblemType IdempotencyKeyInFlight = new("idempotency-key-in-flight", 409, "A request with this Idempotency-Key is still being processed.",
        "Another request with the same Idempotency-Key, from the same API key, is running right now. Wait for it to finish, then retry with the same key: you get its answer, replayed, with Idempotent-Replayed: true.");

    public static readonly ProblemType NoVerdictYet = new("no-verdict-yet", 409, "The claim has no verdict yet.",
        "A ClaimReview publishes a verdict, and the claim is still unverified or in_review; detail says which. Nothing to publish yet: once an editor moves the claim to confirmed, false, disputed or inconclusive (PUT /claims/{id}/status), ask again. GET /claimreview lists only the claims that have a verdict.");

    public static readonly ProblemType StateConflict = new("state-conflict", 409, "The request conflicts with the current state.",
        "Something the request refers to was changed or removed by another request meanwhile. Nothing was changed. Read the resources again and retry.");

    public static readonly ProblemType ConcurrentChange = new("concurrent-change", 409, "A concurrent change got there first.",
        "Concurrent requests changed the same rows, and after a few tries the database still put this one after another. Nothing was changed. Read the resource again and retry.");

    public static readonly ProblemType EventsPurged = new("events-purged", 410, "Events after this position were purged.",
        "The position you read from (after, or Last-Event-ID on the live stream) is below what the retention purge deleted (events are kept for Events:RetentionDays): reading on from it would skip events you never received. `purgedThrough` is the highest position purged and `oldestKept` the oldest position still kept (null when none is). Resync what you keep from its source of truth (GET /claims, GET /sources), then read on with after set to `purgedThrough`. after=0, from the oldest event kept, is never refused. An open live stream that falls behind a purge ends with an `events-purged` event that carries this problem.");

    public static readonly ProblemType VersionMismatch = new("version-mismatch", 412, "The resource has changed since you read it.",
        "The ETag in If-Match is not the resource's current one: it was changed after your last read. Nothing was changed; `currentETag` holds the current ETag. Read the resource again, reapply your change, and send it with If-Match set to the new ETag.");

    public static readonly ProblemType BodyTooLarge = new("body-too-large", 413, "The request body is too large.",
        $"Request bodies are limited to {RequestLimits.MaxBodyBytes / 1024} KB. Send less at once: fewer evidence items with a claim, or fewer ids in one status look-up.");

    public static readonly ProblemType NotAcceptable = new("not-acceptable", 406, "The answer cannot be given in the media type asked for.",
        "The endpoint answers only in the media types its documentation lists, and the request's Accept header named none of them (GET /evidence is an export: text/csv or application/x-ndjson). Send Accept with one of those types.");

    public static readonly ProblemType UnsupportedMediaType = new("unsupported-media-type", 415, "The request body's media type is not supported.",
        "The API reads JSON bodies encoded as UTF-8 only. Send Content-Type: application/json (charset=utf-8 is optional) with a JSON body.");

    public static readonly ProblemType IdempotencyKeyReused = new("idempotency-key-reused", 422, "This Idempotency-Key was used for a different request.",
        "A key stands for one request: the same method, path and body. This key was already used with another one, whose answer it keeps replaying. Nothing was changed. Use a new key for a new request.");

    public static readonly ProblemType IfMatchRequired = new("if-match-required", 428, "If-Match is required.",
        "Changing a claim, a source or a status needs the ETag of your last read of it, exactly one, in If-Match, so that you cannot overwrite a change you have not seen. Read the resource, then send its ETag (quotes included, such as \"3\").");

    public static readonly ProblemType RateLimited = new("rate-limited", 429, "Too many requests.",
        "The API key (or, without a key, the client's address) has used up its allowance of requests or of writes for now. Retry after the number of seconds in Retry-After; the RateLimit headers show the allowance.");

    public static readonly ProblemType TooManyFailedKeys = new("too-many-failed-keys", 429, "Too many failed authentications.",
        "This address sent too many unknown or revoked API keys in the last minute, so its keys are not checked for now, valid ones included. Retry after the number of seconds in Retry-After, with a valid key.");

    public static readonly ProblemType TooManyStreams = new("too-many-streams", 429, "Too many live streams for this key.",
        "The API key (or, without a key, the client's address) already holds Events:MaxStreamsPerCaller live streams (GET /events/stream) open on this instance; detail says how many. Its open streams go on; close one before opening another (one stream with several type filters can replace several streams), or retry after the number of seconds in Retry-After. Other keys are not affected.");

    public static readonly ProblemType InternalError = new("internal-error", 500, "An unexpected error occurred.",
        "The server failed in a way it did not expect. Whether a write was stored is unknown: read before retrying. Report it with the requestId; the server's log holds the details under that id.");

    public static readonly ProblemType DatabaseUnavailable = new("database-unavailable", 503, "The database is not available right now.",
        "The database cannot be reached, or is restarting. Nothing was changed. Retry after the number of seconds in Retry-After.");

    public static readonly ProblemType DatabaseBusy = new("database-busy", 503, "The database is too busy to answer in time.",
        "The database did not answer within its time limit, or no connection to it came free in time. Nothing was changed. Retry after the number of seconds in Retry-After.");

    public static readonly ProblemType DeadlineExceeded = new("deadline-exceeded", 503, "The request did not finish within its deadline.",
        $"Every request gets {RequestDeadline.Timeout.TotalSeconds:0} s, body upload included, and this one took longer, usually because the database did. Nothing was changed. Retry after the number of seconds in Retry-After.");

    public static readonly ProblemType NotReady = new("not-ready", 503, "The service is not ready.",
        "The readiness check found a dependency failing (detail and `checks` name it), so the service cannot answer requests that need it. Retry after the number of seconds in Retry-After.");

    public static readonly ProblemType StreamsFull = new("streams-full", 503, "This instance holds all the live streams it can.",
        "The instance already serves Events:MaxStreams live streams (GET /events/stream), so it opens no more for now; open streams go on. Retry after the number of seconds in Retry-After (another instance behind the same address may have room), and read the changes feed (GET /events) meanwhile: resuming the stream with Last-Event-ID later loses nothing.");

    public static readonly ProblemType CommitUnconfirmed = new("commit-unconfirmed", 504, "The database did not confirm the write in time.",
        "The write was sent to the database, which did not confirm it before the connection broke or the deadline passed: it may or may not be stored. Retry with the same Idempotency-Key to get its answer whichever happened, or read the resource before retrying.");

    /// <summary>Every type, in order of status.</summary>
    public static readonly IReadOnlyList<ProblemType> All =
    [
        InvalidRequest, MalformedJson, InvalidIdempotencyKey, ValueRefused, BadRequest, WebhookUrlRefused, Unauthenticated, Forbidden, CsrfRefused, NotFound, MethodNotAllowed, NotAcceptable,
        RequestTimeout, ConfirmNeedsSupport, FalseNeedsRefutation, ConfirmNeedsIndependentSupport, FalseNeedsIndependentRefutation, VerdictRestsOnEvidence, NoteNeedsStatusChange, SourceStillCited,
        PossibleDuplicates, DuplicateCycle, ClaimIsDuplicate, WebhookDisabled, IdempotencyKeyInFlight, NoVerdictYet, StateConflict, ConcurrentChange, EventsPurged, VersionMismatch, BodyTooLarge, UnsupportedMediaType,
        IdempotencyKeyReused, IfMatchRequired, RateLimited, TooManyFailedKeys, TooManyStreams, InternalError, DatabaseUnavailable, DatabaseBusy,
        DeadlineExceeded, NotReady, StreamsFull, CommitUnconfirmed,
    ];

    private static readonly Dictionary<string, ProblemType> BySlug = All.ToDictionary(t => t.Slug, StringComparer.Ordinal);

    /// <summary>
    /// What a problem that carries only a status means: the framework's own answers (an unknown
    /// route, a method the path does not take, an unhandled exception) and exceptions mapped by status.
    /// </summary>
    private static readonly Dictionary<int, ProblemType> ByStatus = new[]
    {
        BadRequest, Unauthenticated, Forbidden, NotFound, MethodNotAllowed, RequestTimeout, StateConflict, VersionMismatch, BodyTooLarge,
        UnsupportedMediaType, IfMatchRequired, RateLimited, InternalError, DatabaseUnavailable,
    }.ToDictionary(t => t.Status);

    public static ProblemType? FromSlug(string slug) => BySlug.GetValueOrDefault(slug);

    /// <summary>The catalogue type a problem's <c>type</c> names, or null for any other value.</summary>
    public static ProblemType? FromUri(string? uri) =>
        uri is not null && uri.StartsWith(ProblemType.Prefix, StringComparison.Ordinal) ? FromSlug(uri[ProblemType.Prefix.Length..]) : null;

    public static ProblemType? ForStatus(int status) => ByStatus.GetValueOrDefault(status);

    /// <summary>The catalogue as a Markdown table, for the OpenAPI document (the README holds the same table).</summary>
    public static string MarkdownTable()
    {
        var table = new StringBuilder("| slug | status | title | meaning |\n|---|---|---|---|\n");
        foreach (var type in All)
        {
            table.Append($"| `{type.Slug}` | {type.Status} | {type.Title} | {type.Explanation.Replace("|", "\\|", StringComparison.Ordinal)} |\n");
        }

        return table.ToString();
    }
}
