using System.Diagnostics;
using System.Globalization;
using System.Text;
using Claims.Api.Events;
using Claims.Api.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Webhooks;

/// <summary>
/// Delivers webhooks, on every instance. Two steps per round: the fan-out turns each new event
/// into a pending delivery for every subscription it passes, advancing the subscription's
/// last_position in the same transaction (so an event becomes a delivery exactly once); the sender
/// claims due deliveries with FOR UPDATE SKIP LOCKED and moves each one's next_attempt_at on by a
/// lease in that same statement, so that no two instances send the same attempt, and a worker
/// killed mid-send leaves the delivery to be sent again when its lease ends (at least once).
/// Order: per subscription, a delivery is sent only once every earlier one of the same
/// subscription has succeeded or given up, so a receiver sees its events in position order.
/// A round runs at each committed event (the events notice), at a test or retry, and every
/// Webhooks:PollSeconds for due retries.
/// </summary>
public sealed class WebhookWorker : BackgroundService
{
    /// <summary>Deliveries claimed per round, sent at once; and events fanned out per subscription and round.</summary>
    public const int BatchSize = 20;
    public const int FanOutBatch = 500;

    /// <summary>The most of a receiver's answer read (for the attempt log's error), so that a huge answer costs nothing.</summary>
    public const int MaxAnswerRead = 1024;

    /// <summary>
    /// A claimed delivery's lease is the attempt's timeout and this: time to record the outcome.
    /// A worker that dies mid-send leaves the delivery to others once the lease ends.
    /// </summary>
    public static readonly TimeSpan LeaseMargin = TimeSpan.FromSeconds(5);

    private readonly NpgsqlDataSource _db;
    private readonly EventNotifications _notifications;
    private readonly WebhooksOptions _options;
    private readonly IReadOnlyList<TimeSpan> _schedule;
    private readonly ILogger<WebhookWorker> _logger;
    private readonly HttpClient _client;
    private TaskCompletionSource _wake = NewSignal();

    public WebhookWorker(NpgsqlDataSource db, EventNotifications notifications, UrlGuard guard, IOptions<WebhooksOptions> options, ILogger<WebhookWorker> logger)
    {
        _db = db;
        _notifications = notifications;
        _options = options.Value;
        _schedule = _options.Retries;
        _logger = logger;
        // Every connection goes to an address the guard checked just before; no proxy (it would
        // connect for us, unchecked), no redirects (a public receiver could point us inside).
        _client = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = guard.ConnectAsync,
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectTimeout = _options.Timeout,
            // A kept connection was checked when it opened; renew them so that DNS changes are checked again.
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            MaxResponseHeadersLength = 64,
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("Claims-Webhooks/1.0");
    }

    /// <summary>Runs a round soon: something was queued.</summary>
    public void Wake() => Interlocked.Exchange(ref _wake, NewSignal()).TrySetResult();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _logger.LogInformation("Webhook deliveries started");
        var poll = TimeSpan.FromSeconds(_options.PollSeconds);
        var failures = 0;
        var fanOut = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            // Taken before the round: what commits or is queued during it still wakes the next.
            var wake = Task.WhenAny(_notifications.Next, Volatile.Read(ref _wake).Task);
            var busy = false;
            try
            {
                if (fanOut)
                {
                    await FanOutAsync(stoppingToken);
                }

                // A subscription's deliveries go one at a time, so a round that sent anything may
                // have made the next one due: go on at once rather than at the next poll.
                busy = await SendDueAsync(stoppingToken) > 0;
                failures = 0;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // While the database is away: one warning, then one a minute or so, and rounds
                // spaced out up to 30 s instead of a stack trace every poll.
                if (failures++ % 60 == 0)
                {
                    _logger.LogWarning(e, "A webhook round failed ({Failures} in a row); the next one tries again", failures);
                }
            }

            if (busy)
            {
                // Fan out again only when new events were announced: each fan-out read holds
                // event writers back for a moment (see EventStore).
                fanOut = wake.IsCompleted;
                continue;
            }

            fanOut = true;

            try
            {
                var backoff = failures == 0 ? poll : TimeSpan.FromSeconds(Math.Min(30, _options.PollSeconds * Math.Pow(2, Math.Min(failures, 10))));
                await (failures == 0 ? wake : Task.Delay(backoff, stoppingToken)).WaitAsync(backoff, stoppingToken);
            }
            catch (TimeoutException)
            {
                // The poll: retries come due without a notice.
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private sealed record Subscription
    {
        public string[] EventTypes { get; init; } = [];
        public Guid? ClaimId { get; init; }
        public long LastPosition { get; init; }
    }

    /// <summary>Turns the events after each active subscription's last position into its pending deliveries.</summary>
    public async Task FanOutAsync(CancellationToken ct)
    {
        List<Guid> behind;
        await using (var connection = await _db.OpenConnectionAsync(ct))
        {
            behind = (await connection.QueryAsync<Guid>(new CommandDefinition(
                "SELECT id FROM webhooks WHERE disabled_at IS NULL AND last_position < (SELECT coalesce(max(position), 0) FROM events)",
                cancellationToken: ct))).AsList();
        }

        foreach (var id in behind)
        {
            await FanOutAsync(id, ct);
        }
    }

    private async Task FanOutAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await _db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // Another instance fanning this subscription out now will have done it: skip it.
        var hook = await connection.QuerySingleOrDefaultAsync<Subscription>(new CommandDefinition(
            "SELECT event_types, claim_id, last_position FROM webhooks WHERE id = @id AND disabled_at IS NULL FOR UPDATE SKIP LOCKED",
            new { id }, transaction, cancellationToken: ct));
        if (hook is null)
        {
            return;
        }

        // On a connection of its own, outside this transaction: the read holds event writers back
        // until its transaction ends, which must not last while the deliveries are written.
        var (events, horizon) = await EventStore.ReadToHorizonAsync(_db, new EventFilter(WebhookRules.Types(hook.EventTypes), hook.ClaimId), hook.LastPosition, FanOutBatch, ct);
        // A short read saw every match up to the horizon: move on to it, past the events that do not match.
        var reached = events.Count == FanOutBatch ? events[^1].Position : Math.Max(horizon, hook.LastPosition);
        if (events.Count > 0)
        {
            var ids = events.Select(_ => Guid.CreateVersion7()).ToArray();
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO webhook_deliveries (id, webhook_id, event_position, event_type, payload, message_id)
                SELECT d.id, @webhook, d.position, d.type, d.payload, d.message_id
                FROM unnest(@ids::uuid[], @positions::bigint[], @types::text[], @payloads::text[], @messageIds::text[]) WITH ORDINALITY
                    AS d (id, position, type, payload, message_id, n)
                ORDER BY d.n
                ON CONFLICT (webhook_id, event_position) DO NOTHING
                """,
                new
                {
                    webhook = id,
                    ids,
                    positions = events.Select(e => e.Position).ToArray(),
                    types = events.Select(e => e.Type.ToName()).ToArray(),
                    payloads = events.Select(WebhookPayloads.Event).ToArray(),
                    messageIds = ids.Select(WebhookPayloads.MessageId).ToArray(),
                },
                transaction, cancellationToken: ct));
        }

        if (reached > hook.LastPosition)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE webhooks SET last_position = @reached WHERE id = @id", new { id, reached }, transaction, cancellationToken: ct));
        }

        await transaction.CommitAsync(ct);
    }

    private sealed record Claimed(
        Guid Id, Guid WebhookId, string MessageId, string Payload, int Attempt, int RetriesFrom, string Url, string Secret, string? PreviousSecret);

    /// <summary>Claims the due deliveries (each subscription's earliest pending one), sends them at once, records each outcome; returns how many.</summary>
    public async Task<int> SendDueAsync(CancellationToken ct)
    {
        List<Claimed> claimed;
        await using (var connection = await _db.OpenConnectionAsync(ct))
        {
            // One statement, so its own transaction: the lease is taken where the row is locked.
            claimed = (await connection.QueryAsync<Claimed>(new CommandDefinition(
                """
                WITH due AS (
                    SELECT d.id FROM webhook_deliveries d
                    JOIN webhooks w ON w.id = d.webhook_id AND w.disabled_at IS NULL
                    WHERE d.status = 'pending' AND d.next_attempt_at <= now()
                      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id AND e.status = 'pending' AND e.seq < d.seq)
                    ORDER BY d.next_attempt_at
                    LIMIT @batch
                    FOR UPDATE OF d SKIP LOCKED)
                UPDATE webhook_deliveries d
                SET attempt = d.attempt + 1, next_attempt_at = now() + @lease, updated_at = now()
                FROM due, webhooks w
                WHERE d.id = due.id AND w.id = d.webhook_id
                RETURNING d.id, d.webhook_id, d.message_id, d.payload, d.attempt, d.retries_from, w.url, w.secret,
                    CASE WHEN w.previous_secret_until > now() THEN w.previous_secret END AS previous_secret
                """,
                new { batch = BatchSize, lease = _options.Timeout + LeaseMargin }, cancellationToken: ct))).AsList();
        }

        await Task.WhenAll(claimed.Select(delivery => SendAsync(delivery, ct)));
        return claimed.Count;
    }

    private async Task SendAsync(Claimed delivery, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        int? status = null;
        string? error = null;
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bounded.CancelAfter(_options.Timeout);
            var timestamp = DateTimeOffset.UtcNow;
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
            {
                Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
            };
            string[] secrets = delivery.PreviousSecret is null ? [delivery.Secret] : [delivery.Secret, delivery.PreviousSecret];
            request.Headers.Add("webhook-id", delivery.MessageId);
            request.Headers.Add("webhook-timestamp", timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("webhook-signature", WebhookPayloads.Signature(secrets, delivery.MessageId, timestamp, delivery.Payload));
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, bounded.Token);
            status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                error = $"The receiver answered {status}: {await ReadStartAsync(response, bounded.Token)}";
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            error = $"No answer within {_options.TimeoutSeconds:0.###} s.";
        }
        catch (HttpRequestException e)
        {
            error = (e.InnerException as UrlRefusedException)?.Message ?? e.Message;
        }

        try
        {
            await RecordAsync(delivery, status, error, (int)clock.ElapsedMilliseconds, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The lease ends and the delivery is sent again: at least once.
            _logger.LogWarning(e, "Could not record attempt {Attempt} of webhook delivery {Delivery}", delivery.Attempt, delivery.Id);
        }
    }

    private static async Task<string> ReadStartAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            var buffer = new byte[MaxAnswerRead];
            var read = 0;
            int n;
            while (read < buffer.Length && (n = await body.ReadAsync(buffer.AsMemory(read), ct)) > 0)
            {
                read += n;
            }

            var text = Encoding.UTF8.GetString(buffer, 0, read).ReplaceLineEndings(" ").Trim();
            return text.Length > 200 ? text[..200] + "…" : text.Length == 0 ? "(no body)" : text;
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return "(the body could not be read)";
        }
    }

    /// <summary>Records one attempt and what follows: done, the next try, or giving up; disables the subscription on 410 or after failing for days.</summary>
    private async Task RecordAsync(Claimed delivery, int? status, string? error, int durationMs, CancellationToken ct)
    {
        var succeeded = status is >= 200 and < 300;
        var gone = status == StatusCodes.Status410Gone;
        var retry = delivery.Attempt - delivery.RetriesFrom;
        TimeSpan? wait = succeeded || gone || retry > _schedule.Count ? null : _schedule[retry - 1];
        var outcome = succeeded ? "succeeded" : wait is null ? "failed" : "pending";
        var disable = gone
            ? $"The receiver answered 410 Gone at {DateTime.UtcNow:O}."
            : $"Every delivery failed for {_options.DisableAfterHours:0.###} hours; the last error: {error}";
        if (disable.Length > 500)
        {
            disable = disable[..499] + "…";
        }

        await using var connection = await _db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // attempt = @attempt: a worker whose lease ran out records nothing over the one that took it on.
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE webhook_deliveries
            SET status = @outcome, next_attempt_at = CASE WHEN @outcome = 'pending' THEN now() + @wait ELSE next_attempt_at END,
                last_status_code = @status, last_duration_ms = @durationMs, last_error = @error, updated_at = now()
            WHERE id = @id AND attempt = @attempt AND status = 'pending'
            """,
            new { id = delivery.Id, attempt = delivery.Attempt, outcome, wait = wait ?? TimeSpan.Zero, status, durationMs, error },
            transaction, cancellationToken: ct));
        if (updated == 0)
        {
            return;
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO webhook_attempts (delivery_id, attempt, status_code, duration_ms, error)
            VALUES (@id, @attempt, @status, @durationMs, left(@error, 1000))
            ON CONFLICT DO NOTHING
            """,
            new { id = delivery.Id, attempt = delivery.Attempt, status, durationMs, error }, transaction, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE webhooks
            SET failing_since = CASE WHEN @succeeded THEN NULL ELSE coalesce(failing_since, now()) END,
                disabled_at = CASE WHEN disabled_at IS NULL AND (@gone OR (NOT @succeeded AND failing_since < now() - @disableAfter)) THEN now() ELSE disabled_at END,
                disabled_reason = CASE WHEN disabled_at IS NULL AND (@gone OR (NOT @succeeded AND failing_since < now() - @disableAfter)) THEN @disable ELSE disabled_reason END
            WHERE id = @webhook
            """,
            new { webhook = delivery.WebhookId, succeeded, gone, disableAfter = TimeSpan.FromHours(_options.DisableAfterHours), disable },
            transaction, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE webhook_deliveries SET status = 'abandoned', updated_at = now()
            WHERE webhook_id = @webhook AND status = 'pending' AND EXISTS (SELECT 1 FROM webhooks WHERE id = @webhook AND disabled_at IS NOT NULL)
            """,
            new { webhook = delivery.WebhookId }, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
    }

    public override void Dispose()
    {
        _client.Dispose();
        base.Dispose();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

public static class WebhooksSetup
{
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhooksOptions>().Bind(configuration.GetSection("Webhooks"))
            .Validate(o => o.TimeoutSeconds is > 0 and <= 300, "Webhooks:TimeoutSeconds must be more than 0 and at most 300.")
            .Validate(o => o.SecretOverlapHours is >= 0 and <= 24 * 30, "Webhooks:SecretOverlapHours must be between 0 and 720.")
            .Validate(o => o.DisableAfterHours is > 0 and <= 24 * 60, "Webhooks:DisableAfterHours must be more than 0 and at most 1440.")
            .Validate(o => o.PollSeconds is >= 0.05 and <= 3600, "Webhooks:PollSeconds must be between 0.05 and 3600.")
            .Validate(o => WebhooksOptions.TryParseSchedule(o.RetrySchedule, out _),
                "Webhooks:RetrySchedule must be 1 to 20 waits in seconds, comma-separated, each at most a week (5,300,1800,...).")
            .ValidateOnStart();
        services.AddSingleton<UrlGuard>();
        services.AddSingleton<WebhookWorker>();
        services.AddHostedService(provider => provider.GetRequiredService<WebhookWorker>());
        return services;
    }
}
