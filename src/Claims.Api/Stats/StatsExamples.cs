using Claims.Api.OpenApi;

namespace Claims.Api.Stats;

/// <summary>The seed story's counts.</summary>
internal sealed class StatsExamples : IOpenApiExamples
{
    public void Register(OpenApiExampleRegistry examples) => examples.Add(new ClaimStats(
        new Dictionary<string, long> { ["unverified"] = 4, ["in_review"] = 5, ["confirmed"] = 0, ["disputed"] = 0, ["false"] = 0, ["inconclusive"] = 0 },
        9, 10, 16));
}
