using System.Text.Json;
using Claims.Api.Auth;
using Claims.Api.Data;
using Claims.Api.Errors;
using Claims.Api.Events;
using Claims.Api.Http;
using Claims.Api.OpenApi;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Webhooks;

/// <summary>A subscription as stored, secrets left out. Properties, not a constructor: Dapper matches a text[] column to no constructor parameter.</summary>
internal sealed record WebhookRow
{
    public Guid Id { get; init; }
    public string Url { get; init; } = "";
    public string[] EventTypes { get; init; } = [];
    public Guid? ClaimId { get; init; }
    public DateTime CreatedAt { get; init; }
    public string? CreatedBy { get; init; }
    public DateTime? DisabledAt { get; init; }
    public string? DisabledReason { get; init; }
    public DateTime? PreviousSecretUntil { get; init; }

    public const string Columns = "id, url, event_types, claim_id, created_at, created_by, disabled_at, disabled_reason, previous_secret_until";

    public Webhook ToWebhook() => new(Id, Url, EventTypes, ClaimId, CreatedAt, CreatedBy, DisabledAt, DisabledReason,
        PreviousSecretUntil > DateTime.UtcNow ? PreviousSecretUntil : null);
}

internal sealed record DeliveryRow(
    Guid Id, string MessageId, long? EventPosition, string EventType, string Status, int Attempt, DateTime NextAttemptAt, DateTime CreatedAt)
{
    public const string Columns = "id, message_id, event_position, event_type, status, attempt, next_attempt_at, created_at";

    public WebhookDelivery ToDelivery(IReadOnlyList<DeliveryAttempt> attempts)
    {
        var status = Enum.Parse<DeliveryStatus>(Status, ignoreCase: true);
        return new(Id, MessageId, EventPosition?.ToString(System.Globalization.CultureInfo.InvariantCulture), EventType, status, Attempt,
            status == DeliveryStatus.Pending ? NextAttemptAt : null, CreatedAt, attempts);
    }
}

internal sealed record AttemptRow(Guid DeliveryId, int Attempt, DateTime AttemptedAt, int? StatusCode, int DurationMs, string? Error);

public static class WebhooksApi
{
    public static RouteGroupBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/webhooks").WithTags("Webhooks");

        group.MapPost("/", CreateWebhook).WithName(nameof(CreateWebhook)).Allow(Role.Admin).AcceptIdempotencyKey()
            .WithSummary("Subscribe a URL to events, signed as Standard Webhooks")
            .WithDescription("Each event after this moment that passes the filters is POSTed to the URL as its CloudEvent JSON (the item GET /events gives), with the headers webhook-id, webhook-timestamp and webhook-signature. The answer shows the signing secret once. The URL must be https and resolve only to public addresses (checked now and at each delivery). With an Idempotency-Key, a retry replays the first answer, with the subscription's current secret, instead of registering the URL twice; once the subscription is deleted, it answers 404.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/", ListWebhooks).WithName(nameof(ListWebhooks)).Allow(Role.Admin)
            .WithSummary("List webhook subscriptions, newest first (never their secrets)");
        group.MapGet("/{id:guid}", GetWebhook).WithName(nameof(GetWebhook)).Allow(Role.Admin)
            .WithSummary("Read a webhook subscription (never its secret)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{id:guid}", DeleteWebhook).WithName(nameof(DeleteWebhook)).Allow(Role.Admin)
            .WithSummary("Delete a webhook subscription and its deliveries")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id:guid}/rotate-secret", RotateWebhookSecret).WithName(nameof(RotateWebhookSecret)).Allow(Role.Admin)
            .WithSummary("Replace the signing secret; the old one keeps signing for a while")
            .WithDescription("The answer shows the new secret once. For Webhooks:SecretOverlapHours (24 by default) every delivery carries two signatures in webhook-signature, one per secret, so that the receiver can switch at its own pace.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id:guid}/test", TestWebhook).WithName(nameof(TestWebhook)).Allow(Role.Admin)
            .WithSummary("Queue a test delivery (type webhook.test)")
            .WithDescription("Queued behind the subscription's pending deliveries and sent like them; follow it in GET /webhooks/{id}/deliveries.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/{id:guid}/deliveries", ListWebhookDeliveries).WithName(nameof(ListWebhookDeliveries)).Allow(Role.Admin)
            .WithSummary("List a subscription's deliveries, newest first, with each attempt")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id:guid}/deliveries/{deliveryId:guid}/retry", RetryWebhookDelivery).WithName(nameof(RetryWebhookDelivery)).Allow(Role.Admin)
            .WithSummary("Send a delivery again now")
            .WithDescription("A failed or abandoned delivery becomes pending again, due now, with the same webhook-id; a pending one is moved up to now. Its retry schedule starts over.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    public static async Task<Results<Created<WebhookWithSecret>, ProblemHttpResult>> CreateWebhook(
        WebhookRequest request, NpgsqlDataSource db, UrlGuard guard, Idempotency idempotency, HttpContext http, CancellationToken ct)
    {
        var key = idempotency.Read(http, request, out var badKey);
        if (badKey is not null)
        {
            return badKey;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        var (refusal, replay) = await Idempotency.GuardAsync(connection, transaction, key, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        if (replay is not null)
        {
            return await ReplayCreatedAsync(connection, transaction, idempotency, http, replay, ct);
        }

        // Before the insert, so that nothing is stored for a refused URL, nor is the key used up.
        var url = new Uri(request.Url!);
        if (await RefusedAsync(guard, url, ct) is { } refused)
        {
            return refused;
        }

        var secret = WebhookRules.NewSecret();
        // The subscription receives the events numbered after this moment's horizon: positions
        // become visible in increasing order (EventSequencer), so none can appear below it later.
        var start = (await EventStore.ReadToHorizonAsync(db, EventFilter.All, long.MaxValue, 1, ct)).Horizon;
        var row = await connection.QuerySingleAsync<WebhookRow>(new CommandDefinition(
            $"""
            INSERT INTO webhooks (id, url, event_types, claim_id, secret, created_by, last_position)
            VALUES (@id, @url, @types, @claimId, @secret, @createdBy, @start)
            RETURNING {WebhookRow.Columns}
            """,
            new
            {
                id = Guid.CreateVersion7(),
                url = url.AbsoluteUri,
                types = (request.EventTypes ?? []).Distinct(StringComparer.Ordinal).ToArray(),
                claimId = request.ClaimId,
                secret,
                createdBy = Caller.Name(http.User),
                start,
            },
            transaction, cancellationToken: ct));
        var webhook = row.ToWebhook();
        var location = $"/webhooks/{row.Id}";
        // The answer is stored without its secret: a replay reads it from the subscription (see ReplayCreatedAsync).
        await idempotency.CompleteAsync(connection, transaction, key, StatusCodes.Status201Created, location, webhook, ct);
        await commit.RunAsync();
        return TypedResults.Created(location, new WebhookWithSecret(webhook, secret));
    }

    /// <summary>
    /// The first answer again, for a client that lost it: the one place it could see the secret.
    /// The idempotency table holds the answer without the secret, which lives only in the
    /// subscription's row: no second copy that would outlive a rotation or a delete for the two
    /// days replays are kept. So the secret replayed is the subscription's current one (the one
    /// that signs, the same as the first answer's unless rotated since), and a replay after the
    /// subscription was deleted answers 404.
    /// </summary>
    private static async Task<Results<Created<WebhookWithSecret>, ProblemHttpResult>> ReplayCreatedAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Idempotency idempotency, HttpContext http, Idempotency.Check.Replay replay, CancellationToken ct)
    {
        var id = JsonSerializer.Deserialize<Webhook>(replay.Body, idempotency.SerializerOptions)!.Id;
        var secret = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT secret FROM webhooks WHERE id = @id", new { id }, transaction, cancellationToken: ct));
        return secret is null
            ? ProblemTypes.NotFound.Result($"The webhook {id} that this Idempotency-Key registered has been deleted since.")
            : TypedResults.Created(replay.Location, new WebhookWithSecret(idempotency.Replayed<Webhook>(http, replay), secret));
    }

    public static async Task<Results<Ok<Page<Webhook>>, ValidationProblem>> ListWebhooks(
        [AsParameters] PageRequest page, NpgsqlDataSource db, CursorProtector cursors, CancellationToken ct)
    {
        const string scope = "webhooks";
        if (!cursors.TryDecode<TimeKey>(page.Cursor, scope, out var after))
        {
            return PageExtensions.BadCursor();
        }

        var rows = await db.NewestFirstAsync<WebhookRow>($"SELECT {WebhookRow.Columns} FROM webhooks", after, page.Size, ct);
        return TypedResults.Ok(rows.ToPage(page.Size, r => r.ToWebhook(), r => new TimeKey(r.CreatedAt, r.Id), cursors, scope));
    }

    public static async Task<Results<Ok<Webhook>, ProblemHttpResult>> GetWebhook(Guid id, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<WebhookRow>(new CommandDefinition(
            $"SELECT {WebhookRow.Columns} FROM webhooks WHERE id = @id", new { id }, cancellationToken: ct));
        return row is null ? Problems.NotFound("webhook", id) : TypedResults.Ok(row.ToWebhook());
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteWebhook(Guid id, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        var deleted = await connection.ExecuteAsync(new CommandDefinition("DELETE FROM webhooks WHERE id = @id", new { id }, transaction, cancellationToken: ct));
        if (deleted == 0)
        {
            return Problems.NotFound("webhook", id);
        }

        await commit.RunAsync();
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<WebhookWithSecret>, ProblemHttpResult>> RotateWebhookSecret(
        Guid id, NpgsqlDataSource db, IOptions<WebhooksOptions> options, CancellationToken ct)
    {
        var secret = WebhookRules.NewSecret();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        var row = await connection.QuerySingleOrDefaultAsync<WebhookRow>(new CommandDefinition(
            $"""
            UPDATE webhooks SET previous_secret = secret, secret = @secret, previous_secret_until = now() + @overlap
            WHERE id = @id
            RETURNING {WebhookRow.Columns}
            """,
            new { id, secret, overlap = TimeSpan.FromHours(options.Value.SecretOverlapHours) }, transaction, cancellationToken: ct));
        if (row is null)
        {
            return Problems.NotFound("webhook", id);
        }

        await commit.RunAsync();
        return TypedResults.Ok(new WebhookWithSecret(row.ToWebhook(), secret));
    }

    public static async Task<Results<Accepted<WebhookDelivery>, ProblemHttpResult>> TestWebhook(
        Guid id, NpgsqlDataSource db, WebhookWorker worker, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        var hook = await connection.QuerySingleOrDefaultAsync<WebhookRow>(new CommandDefinition(
            $"SELECT {WebhookRow.Columns} FROM webhooks WHERE id = @id", new { id }, transaction, cancellationToken: ct));
        if (hook is null)
        {
            return Problems.NotFound("webhook", id);
        }

        if (hook.DisabledAt is not null)
        {
            return Disabled(hook);
        }

        var deliveryId = Guid.CreateVersion7();
        var row = await connection.QuerySingleAsync<DeliveryRow>(new CommandDefinition(
            $"""
            INSERT INTO webhook_deliveries (id, webhook_id, event_type, payload, message_id)
            VALUES (@deliveryId, @id, @type, @payload, @messageId)
            RETURNING {DeliveryRow.Columns}
            """,
            new { deliveryId, id, type = WebhookRules.TestEventType, payload = WebhookPayloads.Test(deliveryId), messageId = WebhookPayloads.MessageId(deliveryId) },
            transaction, cancellationToken: ct));
        await commit.RunAsync();
        worker.Wake();
        return TypedResults.Accepted($"/webhooks/{id}/deliveries", row.ToDelivery([]));
    }

    public static async Task<Results<Ok<Page<WebhookDelivery>>, ValidationProblem, ProblemHttpResult>> ListWebhookDeliveries(
        Guid id, [AsParameters] PageRequest page, NpgsqlDataSource db, CursorProtector cursors, CancellationToken ct)
    {
        const string scope = "webhook-deliveries";
        if (!cursors.TryDecode<TimeKey>(page.Cursor, scope, out var after))
        {
            return PageExtensions.BadCursor();
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var rows = await connection.ChildPageAsync<DeliveryRow>("webhooks", id,
            $"""
            SELECT {DeliveryRow.Columns} FROM webhook_deliveries
            WHERE webhook_id = @ParentId {(after is null ? "" : "AND (created_at, id) < (@At, @Id)")}
            ORDER BY created_at DESC, id DESC LIMIT @Take
            """,
            after, page.Size, ct);
        if (rows is null)
        {
            return Problems.NotFound("webhook", id);
        }

        var attempts = (await connection.QueryAsync<AttemptRow>(new CommandDefinition(
            """
            SELECT delivery_id, attempt, attempted_at, status_code, duration_ms, error FROM (
                SELECT a.*, row_number() OVER (PARTITION BY delivery_id ORDER BY attempt DESC) AS n
                FROM webhook_attempts a WHERE delivery_id = ANY(@ids)) AS recent
            WHERE n <= @max ORDER BY delivery_id, attempt
            """,
            new { ids = rows.Select(r => r.Id).ToArray(), max = WebhookRules.MaxAttemptsShown }, cancellationToken: ct)))
            .ToLookup(a => a.DeliveryId, a => new DeliveryAttempt(a.Attempt, a.AttemptedAt, a.StatusCode, a.DurationMs, a.Error));
        return TypedResults.Ok(rows.ToPage(page.Size, r => r.ToDelivery([.. attempts[r.Id]]), r => new TimeKey(r.CreatedAt, r.Id), cursors, scope));
    }

    public static async Task<Results<Accepted<WebhookDelivery>, ProblemHttpResult>> RetryWebhookDelivery(
        Guid id, Guid deliveryId, NpgsqlDataSource db, WebhookWorker worker, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        var hook = await connection.QuerySingleOrDefaultAsync<WebhookRow>(new CommandDefinition(
            $"SELECT {WebhookRow.Columns} FROM webhooks WHERE id = @id", new { id }, transaction, cancellationToken: ct));
        if (hook?.DisabledAt is not null)
        {
            return Disabled(hook);
        }

        // The schedule starts over: attempts count from this retry's first, in the delivery's
        // retry column, while the attempt log keeps numbering on.
        var row = hook is null ? null : await connection.QuerySingleOrDefaultAsync<DeliveryRow>(new CommandDefinition(
            $"""
            UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), retries_from = attempt, updated_at = now()
            WHERE id = @deliveryId AND webhook_id = @id
            RETURNING {DeliveryRow.Columns}
            """,
            new { id, deliveryId }, transaction, cancellationToken: ct));
        if (row is null)
        {
            return hook is null ? Problems.NotFound("webhook", id) : Problems.NotFound("delivery", deliveryId);
        }

        await commit.RunAsync();
        worker.Wake();
        return TypedResults.Accepted($"/webhooks/{id}/deliveries", row.ToDelivery([]));
    }

    private static async Task<ProblemHttpResult?> RefusedAsync(UrlGuard guard, Uri url, CancellationToken ct)
    {
        try
        {
            await guard.CheckAsync(url, ct);
            return null;
        }
        catch (UrlRefusedException e)
        {
            return ProblemTypes.WebhookUrlRefused.Result(e.Message);
        }
    }

    private static ProblemHttpResult Disabled(WebhookRow hook) =>
        ProblemTypes.WebhookDisabled.Result($"The webhook {hook.Id} was disabled at {hook.DisabledAt:O}: {hook.DisabledReason}");
}
