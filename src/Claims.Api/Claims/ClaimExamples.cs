using Claims.Api.Evidence;
using Claims.Api.OpenApi;
using Microsoft.OpenApi;

namespace Claims.Api.Claims;

/// <summary>The seed story's training claim, in review, with Lloyd Austin's statement as its evidence.</summary>
internal sealed class ClaimExamples : IOpenApiExamples
{
    internal static readonly Guid TrainingClaimId = Guid.Parse("0192b8a0-c000-7000-8000-000000000002");
    internal static readonly DateTime Logged = new(2024, 10, 23, 14, 5, 0, DateTimeKind.Utc);
    internal static readonly DateTime Reviewed = new(2024, 10, 23, 16, 40, 0, DateTimeKind.Utc);
    internal static readonly DateOnly Reported = new(2024, 10, 23);
    internal const string Training = "North Korean soldiers are training in Russia.";
    internal const string InReviewNote = "On-the-record official statement; seeking a second, independent source.";
    internal static readonly string[] Tags = ["north-korea", "russia", "training"];

    private const string Said = "US Secretary of Defense Lloyd Austin said on Wednesday that \"there is evidence\" of it.";

    public void Register(OpenApiExampleRegistry examples) => examples
        .Add(new CreateClaimRequest(Training, Said, "en", Tags, Reported, [EvidenceExamples.Request]))
        .Add(new ClaimRequest(
            Training,
            "US Secretary of Defense Lloyd Austin said on Wednesday that \"there is evidence\" of it; the evidence was not made public.",
            "en", Tags, Reported))
        .Add(new Claim(
            TrainingClaimId, Training, Said, "en", Tags, Reported, ClaimStatus.InReview, InReviewNote,
            Logged, Reviewed, 3, "newsroom-desk", [EvidenceExamples.Item]))
        .Add(new SimilarClaim(0.58, new Claim(
            Guid.Parse("0192b8a0-c000-7000-8000-000000000001"), "North Korean troops are in Russia.", null, "en",
            ["north-korea", "russia", "troops"], Reported, ClaimStatus.InReview,
            "Official US statements only; looking for independent corroboration.", Logged, Reviewed, 2, "newsroom-desk")));
}
