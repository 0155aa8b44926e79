using Claims.Api.OpenApi;

namespace Claims.Api.Claims.Relations;

/// <summary>The seed story's desertion report, logged again in Ukrainian and recorded as a duplicate of the English claim.</summary>
internal sealed class ClaimRelationExamples : IOpenApiExamples
{
    internal static readonly Guid DesertionId = Guid.Parse("0192b8a0-c000-7000-8000-000000000004");
    internal static readonly Guid UkrainianDesertionId = Guid.Parse("0192b8a0-c000-7000-8000-000000000008");
    internal static readonly Guid RelationId = Guid.Parse("0192b8a0-5200-7000-8000-000000000001");

    public void Register(OpenApiExampleRegistry examples) => examples
        .Add(new ClaimRelationRequest(ClaimRelationKind.DuplicateOf, DesertionId))
        .Add(new ClaimRelation(
            RelationId, ClaimRelationKind.DuplicateOf,
            new RelatedClaim(UkrainianDesertionId, "Північнокорейські військові, відправлені до Росії, дезертирували.", "uk", ClaimStatus.InReview),
            new RelatedClaim(DesertionId, "North Korean soldiers sent to Russia have deserted.", "en", ClaimStatus.InReview),
            ClaimExamples.Reviewed, "newsroom-desk"));
}
