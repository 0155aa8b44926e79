using Claims.Api.Claims;
using Claims.Api.Evidence;
using Claims.Api.OpenApi;

namespace Claims.Api.Sources;

/// <summary>Lloyd Austin, the seed story's first source, and a claim he is cited on.</summary>
internal sealed class SourceExamples : IOpenApiExamples
{
    internal static readonly Guid AustinId = Guid.Parse("0192b8a0-5000-7000-8000-000000000001");

    public void Register(OpenApiExampleRegistry examples) => examples
        .Add(new SourceRequest("Lloyd Austin", SourceKind.Person, "US Secretary of Defense.", null, Reliability.B))
        .Add(new Source(
            AustinId, "Lloyd Austin", SourceKind.Person, "US Secretary of Defense.", null, Reliability.B,
            ClaimExamples.Logged, ClaimExamples.Logged, 1, "newsroom-desk"))
        .Add(new SourceClaim(EvidenceExamples.EvidenceId, Stance.Asserts, 2, ClaimExamples.Logged, new Claim(
            ClaimExamples.TrainingClaimId, ClaimExamples.Training, null, "en", ClaimExamples.Tags,
            ClaimExamples.Reported, ClaimStatus.InReview, ClaimExamples.InReviewNote,
            ClaimExamples.Logged, ClaimExamples.Reviewed, 3, "newsroom-desk")));
}
