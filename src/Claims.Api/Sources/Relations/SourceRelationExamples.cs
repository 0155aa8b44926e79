using Claims.Api.Claims;
using Claims.Api.Evidence;
using Claims.Api.OpenApi;

namespace Claims.Api.Sources.Relations;

/// <summary>Lloyd Austin, affiliated with the Pentagon: one government, however many times it speaks.</summary>
internal sealed class SourceRelationExamples : IOpenApiExamples
{
    internal static readonly Guid PentagonId = Guid.Parse("0192b8a0-5000-7000-8000-000000000010");
    internal static readonly Guid RelationId = Guid.Parse("0192b8a0-5100-7000-8000-000000000001");

    public void Register(OpenApiExampleRegistry examples) => examples
        .Add(new SourceRelationRequest(SourceRelationKind.AffiliatedWith, PentagonId))
        .Add(new SourceRelation(
            RelationId, SourceRelationKind.AffiliatedWith,
            new EvidenceSource(SourceExamples.AustinId, "Lloyd Austin", SourceKind.Person, Reliability.B),
            new EvidenceSource(PentagonId, "Pentagon", SourceKind.Government, Reliability.B),
            ClaimExamples.Logged, "newsroom-desk"));
}
