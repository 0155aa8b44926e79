using System.Text;
using Claims.Api.Claims;
using Claims.Api.OpenApi;

namespace Claims.Api.Webhooks;

/// <summary>
/// A partner's subscription to the training claim's status changes and evidence, and a delivery
/// that its receiver took on the second attempt.
/// </summary>
internal sealed class WebhookExamples : IOpenApiExamples
{
    private static readonly Guid WebhookId = Guid.Parse("0192b8a0-d000-7000-8000-000000000001");
    private static readonly Guid DeliveryId = Guid.Parse("0192b8a0-d100-7000-8000-000000000001");
    private static readonly DateTime Registered = new(2024, 10, 23, 15, 0, 0, DateTimeKind.Utc);
    private const string Url = "https://partner.example.org/claims-hook";
    private static readonly string[] Types = ["claim.status_changed", "evidence.added"];

    /// <summary>Standard Webhooks' form (whsec_ and base64 of 32 bytes), of bytes that say what it is.</summary>
    private static readonly string Secret = "whsec_" + Convert.ToBase64String(Encoding.ASCII.GetBytes("example-secret-shown-once-000000"));

    public void Register(OpenApiExampleRegistry examples)
    {
        var webhook = new Webhook(WebhookId, Url, Types, ClaimExamples.TrainingClaimId, Registered, "partner-integrations", null, null, null);
        DeliveryAttempt[] attempts =
        [
            new(1, ClaimExamples.Reviewed, 503, 84, "The receiver answered 503: Service Unavailable"),
            new(2, ClaimExamples.Reviewed.AddSeconds(5), 204, 61, null),
        ];
        examples
            .Add(new WebhookRequest(Url, Types, ClaimExamples.TrainingClaimId))
            .Add(webhook)
            .Add(new WebhookWithSecret(webhook, Secret))
            .Add(attempts[0])
            .Add(new WebhookDelivery(
                DeliveryId, WebhookPayloads.MessageId(DeliveryId), "1042", "claim.status_changed", DeliveryStatus.Succeeded, 2, null,
                ClaimExamples.Reviewed, attempts));
    }
}
