using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Cryptography;
using Claims.Api.Events;
using Claims.Api.Json;
using Claims.Api.OpenApi;
using Claims.Api.Validation;
using FluentValidation;

namespace Claims.Api.Webhooks;

public sealed class WebhooksOptions
{
    /// <summary>Allow http and loopback, private and link-local addresses (tests and local receivers); never in production.</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>How long one attempt may take, connection and answer, in seconds (default 10).</summary>
    public double TimeoutSeconds { get; set; } = 10;

    /// <summary>How long the old secret keeps signing alongside the new one after a rotation, in hours (default 24).</summary>
    public double SecretOverlapHours { get; set; } = 24;

    /// <summary>A subscription whose deliveries have failed for this long is disabled, in hours (default 120, five days).</summary>
    public double DisableAfterHours { get; set; } = 120;

    /// <summary>
    /// The waits before each retry, in seconds, comma-separated: the Standard Webhooks schedule by
    /// default (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h). After the last, the delivery has failed.
    /// </summary>
    public string RetrySchedule { get; set; } = "5,300,1800,7200,18000,36000,50400,72000,86400";

    /// <summary>How often the worker looks for due deliveries and new events without a notice, in seconds (default 1).</summary>
    public double PollSeconds { get; set; } = 1;

    /// <summary>
    /// The most deliveries of one subscription claimed together and sent one after another on one
    /// connection, recorded in one round trip (default 100); 1 claims and records each on its own.
    /// </summary>
    public int RunLength { get; set; } = 100;

    public const int MaxRunLength = 1000;

    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    public IReadOnlyList<TimeSpan> Retries => TryParseSchedule(RetrySchedule, out var schedule) ? schedule : [];

    public static bool TryParseSchedule(string? text, out IReadOnlyList<TimeSpan> schedule)
    {
        var waits = new List<TimeSpan>();
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds is < 0 or > 7 * 86400)
            {
                schedule = [];
                return false;
            }

            waits.Add(TimeSpan.FromSeconds(seconds));
        }

        schedule = waits;
        return waits.Count is >= 1 and <= 20;
    }
}

/// <summary>What a delivery has come to.</summary>
public enum DeliveryStatus
{
    /// <summary>Waiting for its next attempt (nextAttemptAt), or being sent now.</summary>
    Pending,
    /// <summary>The receiver answered 2xx.</summary>
    Succeeded,
    /// <summary>Every attempt of the retry schedule failed, or the receiver answered 410 Gone.</summary>
    Failed,
    /// <summary>The subscription was disabled (410, or failing for days) while the delivery waited; it is not sent.</summary>
    Abandoned,
}

/// <summary>A webhook subscription as listed: never its secret.</summary>
public sealed record Webhook(
    Guid Id,
    [property: Description("Where deliveries are POSTed."), MaxLength(ValidationRules.MaxUrlLength)] string Url,
    [property: Description("The event types delivered; empty: all of them."), MaxLength(WebhookRules.MaxEventTypes), ItemMaxLength(30)] IReadOnlyList<string> EventTypes,
    [property: Description("Only this claim's events (its own and its evidence's), when set.")] Guid? ClaimId,
    DateTime CreatedAt,
    [property: Description("The name of the API key that registered it."), MaxLength(100)] string? CreatedBy,
    [property: Description("When deliveries stopped: the receiver answered 410 Gone, or failed for Webhooks:DisableAfterHours. Null while active.")] DateTime? DisabledAt,
    [property: Description("Why it was disabled."), MaxLength(500)] string? DisabledReason,
    [property: Description("After a rotation, until when deliveries are also signed with the previous secret; null when only one secret signs.")] DateTime? PreviousSecretUntil);

/// <summary>A subscription with its signing secret, shown this once.</summary>
public sealed record WebhookWithSecret(
    [property: Description("The subscription.")] Webhook Webhook,
    [property: Description("The signing secret (whsec_ and base64 of 32 random bytes), for the receiver to verify webhook-signature with any Standard Webhooks library. It cannot be shown again; rotate it to get a new one."), MaxLength(100)] string Secret);

public sealed record WebhookRequest(
    [property: Description("An absolute https URL that resolves only to public addresses; it receives a POST per event. At most 2048 characters."), Required, MaxLength(ValidationRules.MaxUrlLength)] string? Url,
    [property: Description("The event types to deliver, such as claim.status_changed; empty or absent: all."), MaxLength(WebhookRules.MaxEventTypes), ItemMaxLength(30), EnumValues(typeof(EventType))] IReadOnlyList<string>? EventTypes,
    [property: Description("Only this claim's events (its own and its evidence's).")] Guid? ClaimId);

public sealed class WebhookRequestValidator : AbstractValidator<WebhookRequest>
{
    public WebhookRequestValidator()
    {
        RuleFor(r => r.Url).NotEmpty().WithMessage("Required: the receiver's https URL.").OptionalHttpUrl();
        RuleForEach(r => r.EventTypes).OneOf<WebhookRequest, EventType>();
        RuleFor(r => r.EventTypes!.Count).LessThanOrEqualTo(WebhookRules.MaxEventTypes).When(r => r.EventTypes is not null).OverridePropertyName("eventTypes")
            .WithMessage($"At most {WebhookRules.MaxEventTypes} types, one of each.");
    }
}

/// <summary>One attempt to deliver.</summary>
public sealed record DeliveryAttempt(
    [property: Description("1 for the first attempt.")] int Attempt,
    DateTime AttemptedAt,
    [property: Description("The receiver's HTTP status; null when no answer came (refused address, connection error, timeout).")] int? StatusCode,
    [property: Description("How long the attempt took, in milliseconds.")] int DurationMs,
    [property: Description("What went wrong, when the attempt failed."), MaxLength(1000)] string? Error);

/// <summary>One message to a subscription, with each attempt to send it.</summary>
public sealed record WebhookDelivery(
    Guid Id,
    [property: Description("The webhook-id header of every attempt: the same across retries, so the receiver can drop repeats."), MaxLength(40)] string MessageId,
    [property: Description("The event's id (its position in the feed); null for a test delivery."), MaxLength(20)] string? EventId,
    [property: Description("The event's type, or webhook.test."), MaxLength(30)] string EventType,
    DeliveryStatus Status,
    [property: Description("Attempts made so far.")] int Attempts,
    [property: Description("While pending: when the next attempt is due.")] DateTime? NextAttemptAt,
    DateTime CreatedAt,
    [property: Description("Each attempt, oldest first (the last 50)."), MaxLength(WebhookRules.MaxAttemptsShown)] IReadOnlyList<DeliveryAttempt> AttemptLog);

public static class WebhookRules
{
    public const int MaxEventTypes = 9;
    public const int MaxAttemptsShown = 50;

    /// <summary>The type of the synthetic event POST /webhooks/{id}/test sends.</summary>
    public const string TestEventType = "webhook.test";

    /// <summary>A new signing secret: whsec_ and base64 of 32 random bytes, as Standard Webhooks spells them.</summary>
    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public static IReadOnlyList<EventType> Types(IReadOnlyList<string> names) => [.. names.Select(EnumNames<EventType>.Parse)];
}
