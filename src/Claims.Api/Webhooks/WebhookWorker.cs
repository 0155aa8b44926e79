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
/// Delivers webhooks, on every instance, in two loops. The fan-out turns each new event
/// into a pending delivery for every subscription it passes, advancing the subscription's
/// last_position in the same transaction (so an event becomes a delivery exactly once); the sender
/// claims, per subscription, a run of due deliveries (its earliest pending one, locked with FOR
/// UPDATE SKIP LOCKED, and those after it) and moves their next_attempt_at on by a lease in that
/// same statement, so that no two instances send the same attempt, and a worker killed mid-run
/// leaves the run to be sent again when its lease ends (at least once).
/// Order: per subscription, a delivery is sent only once every earlier one of the same
/// subscription has succeeded or given up: a run goes out one delivery after another and stops at
/// the first failure, so a receiver sees its events in position order.
/// A fan-out runs at each committed event (the events notice); a sending round when the fan-out
/// queued deliveries, at a test or retry; both every Webhooks:PollSeconds (retries come due).
/// </summary>
public sealed class WebhookWorker : BackgroundService
{
    /// <summary>Subscriptions whose runs are claimed per sending round, sent side by side; and events fanned out per subscription and round.</summary>
    public const int SubscriptionsPerRound = 20;
    public const int FanOutBatch = 500;

    /// <summary>The most of a receiver's answer read (for the attempt log's error), so that a huge answer costs nothing.</summary>
    public const int MaxAnswerRead = 1024;

    /// <summary>
    /// A run starts no attempt after this much time since its claim: a slow receiver gets shorter
    /// runs, recorded at least this often, and the run's lease stays short.
    /// </summary>
    public static readonly TimeSpan RunWindow = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A claimed run's lease is <see cref="RunWindow"/>, the attempt's timeout and this: time to
    /// record the outcomes. A worker that dies mid-run leaves the run to others once the lease ends.
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

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _logger.LogInformation("Webhook deliveries started");
        // Two loops, so that neither waits for the other: a fan-out of a long backlog goes on
        // while the deliveries already queued are sent.
        return Task.WhenAll(
            RepeatAsync("fan-out", () => _notifications.Next, async ct =>
            {
                var done = await FanOutAsync(ct);
                if (done.Queued)
                {
                    Wake();
                }

                return done.More;
            }, stoppingToken),
            // A subscription's deliveries go in order, a run at a time, so a round that sent
            // anything may have made the next run due: go on at once rather than at the next poll.
            RepeatAsync("delivery", () => Volatile.Read(ref _wake).Task, async ct => await SendDueAsync(ct) > 0, stoppingToken));
    }

    /// <summary>
    /// Runs <paramref name="round"/> when <paramref name="signal"/> fires, at least every
    /// Webhooks:PollSeconds (retries come due without a notice), and again at once while it
    /// reports more to do.
    /// </summary>
    private async Task RepeatAsync(string name, Func<Task> signal, Func<CancellationToken, Task<bool>> round, CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromSeconds(_options.PollSeconds);
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            // Taken before the round: what commits or is queued during it still wakes the next.
            var wake = signal();
            try
            {
                var more = await round(stoppingToken);
                failures = 0;
                if (more)
                {
                    continue;
                }
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
                    _logger.LogWarning(e, "A webhook {Round} round failed ({Failures} in a row); the next one tries again", name, failures);
                }
            }

            try
            {
                var backoff = failures == 0 ? poll : TimeSpan.FromSeconds(Math.Min(30, _options.PollSeconds * Math.Pow(2, Math.Min(failures, 10))));
                await (failures == 0 ? wake : Task.Delay(backoff, stoppingToken)).WaitAsync(backoff, stoppingToken);
            }
            catch (TimeoutException)
            {
                // The poll.
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

    /// <summary>What a fan-out did: queued deliveries; stopped at a full batch for some subscription, so that more may follow at once.</summary>
    public readonly record struct FanOut(bool Queued, bool More);

    /// <summary>Turns the events after each active subscription's last position into its pending deliveries.</summary>
    public async Task<FanOut> FanOutAsync(CancellationToken ct)
    {
        List<Guid> behind;
        await using (var connection = await _db.OpenConnectionAsync(ct))
        {
            behind = (await connection.QueryAsync<Guid>(new CommandDefinition(
                "SELECT id FROM webhooks WHERE disabled_at IS NULL AND last_position < (SELECT coalesce(max(position), 0) FROM events)",
                cancellationToken: ct))).AsList();
        }

        var done = new FanOut(false, false);
        foreach (var id in behind)
        {
            var one = await FanOutAsync(id, ct);
            done = new FanOut(done.Queued || one.Queued, done.More || one.More);
        }

        return done;
    }

    private async Task<FanOut> FanOutAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await _db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // Another instance fanning this subscription out now will have done it: skip it.
        var hook = await connection.QuerySingleOrDefaultAsync<Subscription>(new CommandDefinition(
            "SELECT event_types, claim_id, last_position FROM webhooks WHERE id = @id AND disabled_at IS NULL FOR UPDATE SKIP LOCKED",
            new { id }, transaction, cancellationToken: ct));
        if (hook is null)
        {
            return new FanOut(false, false);
        }

        // Positions become visible in increasing order (EventSequencer), so the read needs no lock
        // and may run beside this transaction.
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
        return new FanOut(events.Count > 0, events.Count == FanOutBatch);
    }

    private sealed record Claimed(
        Guid Id, Guid WebhookId, long Seq, string MessageId, string Payload, int Attempt, int RetriesFrom, string Url, string Secret, string? PreviousSecret);

    private sealed record Outcome(Claimed Delivery, int? Status, string? Error, int DurationMs)
    {
        public bool Succeeded => Status is >= 200 and < 300;
    }

    /// <summary>
    /// Claims runs of due deliveries (per subscription, its earliest pending one and up to
    /// Webhooks:RunLength after it), sends each run in order, records each run's outcomes; returns
    /// how many deliveries were claimed.
    /// </summary>
    public async Task<int> SendDueAsync(CancellationToken ct)
    {
        // Taken before the claim is sent, so that it never ends after the lease the database gives.
        var clock = Stopwatch.StartNew();
        List<Claimed> claimed;
        await using (var connection = await _db.OpenConnectionAsync(ct))
        {
            // One statement, so its own transaction: the lease is taken where the rows are locked.
            // Only the head of a subscription is locked, with SKIP LOCKED and rechecked on its
            // latest version: a head another instance is claiming is skipped, one it has leased or
            // finished meanwhile is no longer due or pending. The rest of the run needs no lock of
            // its own: a delivery is never a head while an earlier one is pending, and the head
            // stays pending, leased, until this run is recorded.
            claimed = (await connection.QueryAsync<Claimed>(new CommandDefinition(
                """
                WITH heads AS (
                    SELECT h.id FROM webhooks w
                    CROSS JOIN LATERAL (
                        SELECT p.id, p.next_attempt_at FROM webhook_deliveries p
                        WHERE p.webhook_id = w.id AND p.status = 'pending' ORDER BY p.seq LIMIT 1) h
                    WHERE w.disabled_at IS NULL AND h.next_attempt_at <= now()),
                locked AS (
                    SELECT d.id, d.webhook_id, d.seq FROM webhook_deliveries d
                    WHERE d.id IN (SELECT id FROM heads) AND d.status = 'pending' AND d.next_attempt_at <= now()
                    ORDER BY d.next_attempt_at
                    LIMIT @subscriptions
                    FOR UPDATE OF d SKIP LOCKED),
                run AS (
                    -- The head and the pending deliveries after it, up to the first one not due yet.
                    SELECT r.id FROM locked l
                    CROSS JOIN LATERAL (
                        SELECT p.id, bool_and(p.next_attempt_at <= now()) OVER (ORDER BY p.seq) AS due
                        FROM webhook_deliveries p
                        WHERE p.webhook_id = l.webhook_id AND p.status = 'pending' AND p.seq >= l.seq
                        ORDER BY p.seq
                        LIMIT @runLength) r
                    WHERE r.due)
                UPDATE webhook_deliveries d
                SET attempt = d.attempt + 1, next_attempt_at = now() + @lease, updated_at = now()
                FROM run, webhooks w
                WHERE d.id = run.id AND w.id = d.webhook_id AND d.status = 'pending'
                RETURNING d.id, d.webhook_id, d.seq, d.message_id, d.payload, d.attempt, d.retries_from, w.url, w.secret,
                    CASE WHEN w.previous_secret_until > now() THEN w.previous_secret END AS previous_secret
                """,
                new { subscriptions = SubscriptionsPerRound, runLength = _options.RunLength, lease = RunWindow + _options.Timeout + LeaseMargin },
                cancellationToken: ct))).AsList();
        }

        await Task.WhenAll(claimed.GroupBy(d => d.WebhookId).Select(run => SendRunAsync([.. run.OrderBy(d => d.Seq)], clock, ct)));
        return claimed.Count;
    }

    /// <summary>
    /// Sends a run one delivery after another, in order, and stops at the first that fails (the
    /// rest wait for its retry), or once <see cref="RunWindow"/> has passed since the claim (so
    /// that the last attempt ends within the lease); then records the run in one round trip.
    /// </summary>
    private async Task SendRunAsync(IReadOnlyList<Claimed> run, Stopwatch sinceClaim, CancellationToken ct)
    {
        var outcomes = new List<Outcome>(run.Count);
        try
        {
            foreach (var delivery in run)
            {
                // The first goes even after a slow claim, while the lease still leaves time to record it.
                if (sinceClaim.Elapsed > (outcomes.Count == 0 ? RunWindow + LeaseMargin / 2 : RunWindow))
                {
                    break;
                }

                var outcome = await SendAsync(delivery, ct);
                outcomes.Add(outcome);
                if (!outcome.Succeeded)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Shutting down: record what was sent, so that it is not sent again.
        }

        try
        {
            // Not the stopping token: what was sent is recorded even during a shutdown, within the margin the lease leaves.
            using var bounded = new CancellationTokenSource(LeaseMargin);
            await RecordAsync(outcomes, run.Skip(outcomes.Count).ToList(), bounded.Token);
        }
        catch (Exception e)
        {
            // The lease ends and the run is sent again: at least once.
            _logger.LogWarning(e, "Could not record {Count} webhook attempts of subscription {Webhook}", outcomes.Count, run[0].WebhookId);
        }

        ct.ThrowIfCancellationRequested();
    }

    private async Task<Outcome> SendAsync(Claimed delivery, CancellationToken ct)
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

        return new Outcome(delivery, status, error, (int)clock.ElapsedMilliseconds);
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

    /// <summary>
    /// Records a run in one round trip (the statements of one command share an implicit
    /// transaction): each attempt and what follows it (done, the next try, or giving up); the
    /// claimed deliveries that were not sent go back to waiting, their attempt uncounted; and the
    /// subscription is disabled on 410 or after failing for days.
    /// </summary>
    private async Task RecordAsync(IReadOnlyList<Outcome> sent, IReadOnlyList<Claimed> unsent, CancellationToken ct)
    {
        var webhook = (sent.Count > 0 ? sent[0].Delivery : unsent[0]).WebhookId;
        var outcomes = sent.Select(o =>
        {
            var retry = o.Delivery.Attempt - o.Delivery.RetriesFrom;
            TimeSpan? wait = o.Succeeded || o.Status == StatusCodes.Status410Gone || retry > _schedule.Count ? null : _schedule[retry - 1];
            return (Outcome: o, Status: o.Succeeded ? "succeeded" : wait is null ? "failed" : "pending", Wait: wait ?? TimeSpan.Zero);
        }).ToList();
        var last = sent.Count > 0 ? sent[^1] : null;
        var gone = last?.Status == StatusCodes.Status410Gone;
        var disable = gone
            ? $"The receiver answered 410 Gone at {DateTime.UtcNow:O}."
            : $"Every delivery failed for {_options.DisableAfterHours:0.###} hours; the last error: {last?.Error}";
        if (disable.Length > 500)
        {
            disable = disable[..499] + "…";
        }

        await using var connection = await _db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            -- The subscription first, as DELETE /webhooks and the fan-out lock it before its deliveries,
            -- so that a delete waits rather than deadlocks; and only when it changes: a run that
            -- succeeded on a subscription that was not failing leaves it alone, and so never waits
            -- for a fan-out.
            SELECT 1 FROM webhooks WHERE id = @webhook AND NOT (@lastSucceeded AND failing_since IS NULL) FOR NO KEY UPDATE;

            WITH sent AS (
                SELECT * FROM unnest(@ids::uuid[], @attempts::int[], @outcomes::text[], @waits::interval[], @statuses::int[], @durations::int[], @errors::text[])
                    AS s (id, attempt, outcome, wait, status_code, duration_ms, error)),
            recorded AS (
                -- attempt = s.attempt: a worker whose lease ran out records nothing over the one that took it on.
                UPDATE webhook_deliveries d
                SET status = s.outcome, next_attempt_at = CASE WHEN s.outcome = 'pending' THEN now() + s.wait ELSE d.next_attempt_at END,
                    last_status_code = s.status_code, last_duration_ms = s.duration_ms, last_error = s.error, updated_at = now()
                FROM sent s
                WHERE d.id = s.id AND d.attempt = s.attempt AND d.status = 'pending'
                RETURNING d.id, d.attempt, s.status_code, s.duration_ms, s.error),
            logged AS (
                INSERT INTO webhook_attempts (delivery_id, attempt, status_code, duration_ms, error)
                SELECT id, attempt, status_code, duration_ms, left(error, 1000) FROM recorded
                ON CONFLICT DO NOTHING),
            released AS (
                UPDATE webhook_deliveries d SET attempt = d.attempt - 1, next_attempt_at = now(), updated_at = now()
                FROM unnest(@unsent::uuid[], @unsentAttempts::int[]) AS u (id, attempt)
                WHERE d.id = u.id AND d.attempt = u.attempt AND d.status = 'pending')
            UPDATE webhooks
            SET failing_since = CASE WHEN @lastSucceeded THEN NULL WHEN @anySucceeded THEN now() ELSE coalesce(failing_since, now()) END,
                disabled_at = CASE WHEN disabled_at IS NULL AND (@gone OR (NOT @anySucceeded AND failing_since < now() - @disableAfter)) THEN now() ELSE disabled_at END,
                disabled_reason = CASE WHEN disabled_at IS NULL AND (@gone OR (NOT @anySucceeded AND failing_since < now() - @disableAfter)) THEN @disable ELSE disabled_reason END
            WHERE id = @webhook AND NOT (@lastSucceeded AND failing_since IS NULL) AND EXISTS (SELECT 1 FROM recorded);

            UPDATE webhook_deliveries SET status = 'abandoned', updated_at = now()
            WHERE webhook_id = @webhook AND status = 'pending' AND EXISTS (SELECT 1 FROM webhooks WHERE id = @webhook AND disabled_at IS NOT NULL);
            """,
            new
            {
                webhook,
                ids = outcomes.Select(o => o.Outcome.Delivery.Id).ToArray(),
                attempts = outcomes.Select(o => o.Outcome.Delivery.Attempt).ToArray(),
                outcomes = outcomes.Select(o => o.Status).ToArray(),
                waits = outcomes.Select(o => o.Wait).ToArray(),
                statuses = outcomes.Select(o => o.Outcome.Status).ToArray(),
                durations = outcomes.Select(o => o.Outcome.DurationMs).ToArray(),
                errors = outcomes.Select(o => o.Outcome.Error).ToArray(),
                unsent = unsent.Select(d => d.Id).ToArray(),
                unsentAttempts = unsent.Select(d => d.Attempt).ToArray(),
                lastSucceeded = last?.Succeeded ?? false,
                anySucceeded = sent.Any(o => o.Succeeded),
                gone,
                disableAfter = TimeSpan.FromHours(_options.DisableAfterHours),
                disable,
            },
            cancellationToken: ct));
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
            .Validate(o => o.RunLength is >= 1 and <= WebhooksOptions.MaxRunLength, $"Webhooks:RunLength must be between 1 and {WebhooksOptions.MaxRunLength}.")
            .Validate(o => WebhooksOptions.TryParseSchedule(o.RetrySchedule, out _),
                "Webhooks:RetrySchedule must be 1 to 20 waits in seconds, comma-separated, each at most a week (5,300,1800,...).")
            .ValidateOnStart();
        services.AddSingleton<UrlGuard>();
        services.AddSingleton<WebhookWorker>();
        services.AddHostedService(provider => provider.GetRequiredService<WebhookWorker>());
        return services;
    }
}
