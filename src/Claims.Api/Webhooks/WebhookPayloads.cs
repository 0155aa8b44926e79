using System.Text.Json;
using Claims.Api.Events;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using StandardWebhooks;

namespace Claims.Api.Webhooks;

/// <summary>What a delivery sends: the body, its webhook-id, and the signatures of Standard Webhooks 1.0.</summary>
public static class WebhookPayloads
{
    private static readonly JsonEventFormatter Formatter = new();

    /// <summary>The webhook-id of a delivery: one per message, the same on every attempt.</summary>
    public static string MessageId(Guid deliveryId) => "msg_" + deliveryId.ToString("N");

    /// <summary>An event's body: its CloudEvent JSON, exactly as an item of GET /events.</summary>
    public static string Event(StoredEvent stored) => JsonSerializer.Serialize(stored.ToChangeEvent());

    /// <summary>The body of a test delivery: a CloudEvent of type webhook.test, whose subject is the delivery.</summary>
    public static string Test(Guid deliveryId)
    {
        var cloudEvent = new CloudEvent(CloudEventsSpecVersion.V1_0)
        {
            Id = "test_" + deliveryId.ToString("N"),
            Source = new Uri(CloudEventJson.SourceReference, UriKind.Relative),
            Type = WebhookRules.TestEventType,
            Time = DateTimeOffset.UtcNow,
            Subject = deliveryId.ToString(),
            DataContentType = "application/json",
            Data = JsonSerializer.SerializeToElement(new { message = "A test delivery from the Claims API." }),
        };
        return Formatter.ConvertToJsonElement(cloudEvent).GetRawText();
    }

    /// <summary>The webhook-signature header: one signature per secret, separated by a space, as the standard allows during a rotation.</summary>
    public static string Signature(IEnumerable<string> secrets, string messageId, DateTimeOffset timestamp, string payload) =>
        string.Join(' ', secrets.Select(secret => new StandardWebhook(secret).Sign(messageId, timestamp, payload)));
}
