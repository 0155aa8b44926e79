using Claims.Api.Claims;
using Claims.Api.OpenApi;
using Claims.Api.Sources;

namespace Claims.Api.Evidence;

/// <summary>Lloyd Austin's statement as evidence for the training claim.</summary>
internal sealed class EvidenceExamples : IOpenApiExamples
{
    internal static readonly Guid EvidenceId = Guid.Parse("0192b8a0-e000-7000-8000-000000000004");

    internal static EvidenceRequest Request => new(
        SourceExamples.AustinId, Stance.Asserts, "there is evidence", null, new DateTimeOffset(2024, 10, 23, 12, 0, 0, TimeSpan.Zero),
        "US Secretary of Defense, speaking on Wednesday.", 2);

    internal static EvidenceItem Item => new(
        EvidenceId, ClaimExamples.TrainingClaimId, new EvidenceSource(SourceExamples.AustinId, "Lloyd Austin", SourceKind.Person, Reliability.B),
        Stance.Asserts, "there is evidence", null, new DateTime(2024, 10, 23, 12, 0, 0, DateTimeKind.Utc),
        "US Secretary of Defense, speaking on Wednesday.", 2, ClaimExamples.Logged, "newsroom-desk", null, null, null);

    public void Register(OpenApiExampleRegistry examples) => examples.Add(Request).Add(Item);
}
