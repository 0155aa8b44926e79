using Claims.Api.Claims;
using Claims.Api.Evidence;
using Claims.Api.OpenApi;

namespace Claims.Api.Verification;

/// <summary>The training claim moved into review, as the seed story's desk did.</summary>
internal sealed class VerificationExamples : IOpenApiExamples
{
    public void Register(OpenApiExampleRegistry examples)
    {
        var inReview = new ClaimStatusView(
            ClaimExamples.TrainingClaimId, ClaimStatus.InReview, ClaimExamples.InReviewNote, ClaimExamples.Reviewed, new EvidenceCounts(1, 0, 0, 0, 0), new EvidenceCounts(1, 0, 0, 0, 0));
        examples
            .Add(new StatusChangeRequest(ClaimStatus.InReview, ClaimExamples.InReviewNote))
            .Add(inReview)
            .Add(new StatusesRequest([ClaimExamples.TrainingClaimId, Guid.Parse("0192b8a0-c000-7000-8000-000000000004")]))
            .Add(new StatusesResponse([inReview], [Guid.Parse("0192b8a0-c000-7000-8000-0000000000ff")]))
            .Add(new StatusChange(
                Guid.Parse("0192b8a0-f000-7000-8000-000000000001"), ClaimStatus.Unverified, ClaimStatus.InReview,
                ClaimExamples.InReviewNote, ClaimExamples.Reviewed, "verification-editor"));
    }
}
