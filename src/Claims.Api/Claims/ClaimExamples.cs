using Claims.Api.Evidence;
using Claims.Api.OpenApi;
using Microsoft.AspNetCore.Mvc;
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
        .Add(TrainingClaim([EvidenceExamples.Item]))
        .Add(new SimilarClaim(0.58, new Claim(
            Guid.Parse("0192b8a0-c000-7000-8000-000000000001"), "North Korean troops are in Russia.", null, "en",
            ["north-korea", "russia", "troops"], Reported, ClaimStatus.InReview,
            "Official US statements only; looking for independent corroboration.", Logged, Reviewed, 2, "newsroom-desk")));

    /// <summary>
    /// The 409 of POST /claims with checkDuplicates for "North Korean soldiers are being trained
    /// in Russia.": the training claim scores 0.8269 (the troops claim, at 0.5273, stays below
    /// the 0.6 default). Built as the handler builds it, ids added as the problem writer adds them.
    /// </summary>
    internal static ProblemDetails PossibleDuplicates()
    {
        var problem = ClaimsApi.PossibleDuplicates(
            [new SimilarClaim(0.8269, TrainingClaim(null), new Relations.ClaimRelationRequest(Relations.ClaimRelationKind.DuplicateOf, TrainingClaimId))], 0.6);
        problem.Extensions["requestId"] = "0HNA3TJ8S5K2Q:00000001";
        problem.Extensions["traceId"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        return problem;
    }

    private static Claim TrainingClaim(IReadOnlyList<EvidenceItem>? evidence) => new(
        TrainingClaimId, Training, Said, "en", Tags, Reported, ClaimStatus.InReview, InReviewNote,
        Logged, Reviewed, 3, "newsroom-desk", evidence,
        evidence is null ? null : new EvidenceCounts(1, 0, 0, 0, 0),
        // Austin speaks for himself: an origin of one item, shown in its evidence entry, not listed.
        evidence is null ? null : []);
}
