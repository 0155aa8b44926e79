using System.Text.Json;
using Claims.Api.Auth;
using Claims.Api.Claims;
using Claims.Api.Evidence;
using Claims.Api.Json;
using Claims.Api.Sources;
using Claims.Api.Stats;
using Claims.Api.Verification;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Claims.Api.OpenApi;

/// <summary>
/// Examples for the Swagger UI, taken from the seed story so that "Try it out" starts from
/// something a reporter would really log. Serialized with the API's own JSON options, so they
/// are spelled exactly as the API spells them.
/// </summary>
public sealed class OpenApiExamples(IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : ISchemaFilter
{
    private static readonly Guid AustinId = Guid.Parse("0192b8a0-5000-7000-8000-000000000001");
    private static readonly Guid TrainingClaimId = Guid.Parse("0192b8a0-c000-7000-8000-000000000002");
    private static readonly Guid EvidenceId = Guid.Parse("0192b8a0-e000-7000-8000-000000000004");
    private static readonly DateTime Logged = new(2024, 10, 23, 14, 5, 0, DateTimeKind.Utc);
    private static readonly DateTime Reviewed = new(2024, 10, 23, 16, 40, 0, DateTimeKind.Utc);

    private static readonly EvidenceRequest NewEvidence = new(
        AustinId, Stance.Asserts, "there is evidence", null, new DateTimeOffset(2024, 10, 23, 12, 0, 0, TimeSpan.Zero),
        "US Secretary of Defense, speaking on Wednesday.", 2);

    private static readonly EvidenceItem Evidence = new(
        EvidenceId, TrainingClaimId, new EvidenceSource(AustinId, "Lloyd Austin", SourceKind.Person, Reliability.B),
        Stance.Asserts, "there is evidence", null, new DateTime(2024, 10, 23, 12, 0, 0, DateTimeKind.Utc),
        "US Secretary of Defense, speaking on Wednesday.", 2, Logged, "newsroom-desk");

    private static readonly Dictionary<Type, object> Examples = new()
    {
        [typeof(SourceRequest)] = new SourceRequest(
            "Lloyd Austin", SourceKind.Person, "US Secretary of Defense.", null, Reliability.B),
        [typeof(Source)] = new Source(
            AustinId, "Lloyd Austin", SourceKind.Person, "US Secretary of Defense.", null, Reliability.B, Logged, Logged, 1, "newsroom-desk"),
        [typeof(CreateClaimRequest)] = new CreateClaimRequest(
            "North Korean soldiers are training in Russia.",
            "US Secretary of Defense Lloyd Austin said on Wednesday that \"there is evidence\" of it.",
            "en", ["north-korea", "russia", "training"], new DateOnly(2024, 10, 23), [NewEvidence]),
        [typeof(ClaimRequest)] = new ClaimRequest(
            "North Korean soldiers are training in Russia.",
            "US Secretary of Defense Lloyd Austin said on Wednesday that \"there is evidence\" of it; the evidence was not made public.",
            "en", ["north-korea", "russia", "training"], new DateOnly(2024, 10, 23)),
        [typeof(Claim)] = new Claim(
            TrainingClaimId, "North Korean soldiers are training in Russia.",
            "US Secretary of Defense Lloyd Austin said on Wednesday that \"there is evidence\" of it.",
            "en", ["north-korea", "russia", "training"], new DateOnly(2024, 10, 23), ClaimStatus.InReview,
            "On-the-record official statement; seeking a second, independent source.", Logged, Reviewed, 3, "newsroom-desk", [Evidence]),
        [typeof(EvidenceRequest)] = NewEvidence,
        [typeof(EvidenceItem)] = Evidence,
        [typeof(StatusChangeRequest)] = new StatusChangeRequest(
            ClaimStatus.InReview, "On-the-record official statement; seeking a second, independent source."),
        [typeof(ClaimStatusView)] = new ClaimStatusView(
            TrainingClaimId, ClaimStatus.InReview, "On-the-record official statement; seeking a second, independent source.",
            Reviewed, new EvidenceCounts(1, 0, 0, 0, 0)),
        [typeof(SimilarClaim)] = new SimilarClaim(0.58, new Claim(
            Guid.Parse("0192b8a0-c000-7000-8000-000000000001"), "North Korean troops are in Russia.", null, "en",
            ["north-korea", "russia", "troops"], new DateOnly(2024, 10, 23), ClaimStatus.InReview,
            "Official US statements only; looking for independent corroboration.", Logged, Reviewed, 2, "newsroom-desk")),
        [typeof(SourceClaim)] = new SourceClaim(EvidenceId, Stance.Asserts, 2, Logged, new Claim(
            TrainingClaimId, "North Korean soldiers are training in Russia.", null, "en", ["north-korea", "russia", "training"],
            new DateOnly(2024, 10, 23), ClaimStatus.InReview, "On-the-record official statement; seeking a second, independent source.",
            Logged, Reviewed, 3, "newsroom-desk")),
        [typeof(StatusesRequest)] = new StatusesRequest([TrainingClaimId, Guid.Parse("0192b8a0-c000-7000-8000-000000000004")]),
        [typeof(StatusesResponse)] = new StatusesResponse(
            [new ClaimStatusView(TrainingClaimId, ClaimStatus.InReview, "On-the-record official statement; seeking a second, independent source.",
                Reviewed, new EvidenceCounts(1, 0, 0, 0, 0))],
            [Guid.Parse("0192b8a0-c000-7000-8000-0000000000ff")]),
        [typeof(ClaimStats)] = new ClaimStats(
            new Dictionary<string, long> { ["unverified"] = 4, ["in_review"] = 5, ["confirmed"] = 0, ["disputed"] = 0, ["false"] = 0, ["inconclusive"] = 0 },
            9, 10, 16),
        [typeof(ApiKeyRequest)] = new ApiKeyRequest("verification-desk", Role.Editor),
        [typeof(CreatedApiKey)] = new CreatedApiKey(Guid.Parse("0192b8a0-a000-7000-8000-000000000001"), "verification-desk", Role.Editor, Logged,
            "clm_example-secret-shown-once-0000000000000000000"),
        [typeof(ApiKey)] = new ApiKey(Guid.Parse("0192b8a0-a000-7000-8000-000000000001"), "verification-desk", Role.Editor, Logged, null),
        [typeof(StatusChange)] = new StatusChange(
            Guid.Parse("0192b8a0-f000-7000-8000-000000000001"), ClaimStatus.Unverified, ClaimStatus.InReview,
            "On-the-record official statement; seeking a second, independent source.", Reviewed, "verification-editor"),
    };

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete)
        {
            return;
        }

        if (Examples.TryGetValue(context.Type, out var example))
        {
            concrete.Example = JsonSerializer.SerializeToNode(example, context.Type, json.Value.SerializerOptions);
        }

        // Attributes cannot reach the items of a list: state each tag's limit here.
        if (typeof(IClaimFields).IsAssignableFrom(context.Type)
            && concrete.Properties?.TryGetValue("tags", out var tags) == true && tags is OpenApiSchema { Items: OpenApiSchema items })
        {
            items.MaxLength = ClaimRules.MaxTagLength;
        }
    }
}
