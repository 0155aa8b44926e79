using Claims.Api.Claims;
using Claims.Api.OpenApi;
using Microsoft.AspNetCore.Mvc;

namespace Claims.Api.Publishing;

/// <summary>
/// The seed story's training claim as it would be published once confirmed: Lloyd Austin asserts
/// it (a person), a news report repeats it.
/// </summary>
internal sealed class ClaimReviewExamples : IOpenApiExamples
{
    private static readonly DateTime Confirmed = new(2024, 10, 25, 9, 30, 0, DateTimeKind.Utc);

    internal static ClaimReview Review => new(
        ClaimReviewApi.Context, "ClaimReview", $"https://factcheck.example.org/claims/{ClaimExamples.TrainingClaimId}", ClaimExamples.Training,
        ClaimReviewRatings.Rating(ClaimStatus.Confirmed),
        new ClaimReviewClaim(
            "Claim",
            [new ClaimReviewParty("Person", "Lloyd Austin", null)],
            ClaimExamples.Reported,
            new ClaimReviewWork("CreativeWork", "https://media.example.org/transcripts/austin-2024-10-23", new DateTime(2024, 10, 23, 12, 0, 0, DateTimeKind.Utc)),
            [new ClaimReviewWork("CreativeWork", "https://news.example.org/north-korean-troops-russia", new DateTime(2024, 10, 23, 18, 0, 0, DateTimeKind.Utc))]),
        Newsroom, Newsroom, Confirmed, "en");

    private static ClaimReviewParty Newsroom => new("Organization", "Claims desk", "https://factcheck.example.org/");

    public void Register(OpenApiExampleRegistry examples) => examples
        .Add(Review)
        .Add(new ClaimReviewFeed(ClaimReviewApi.Context, "DataFeed", [Review], null));

    /// <summary>The 409 of GET /claims/{id}/claimreview for the training claim, in review; ids added as the problem writer adds them.</summary>
    internal static ProblemDetails NoVerdictYet()
    {
        var problem = Errors.ProblemTypes.NoVerdictYet.Details(ClaimReviewApi.NoVerdictDetail(ClaimExamples.TrainingClaimId, ClaimStatus.InReview));
        problem.Extensions["requestId"] = "0HNA3TJ8S5K2Q:00000001";
        problem.Extensions["traceId"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        return problem;
    }
}
