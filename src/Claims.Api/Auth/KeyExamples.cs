using Claims.Api.OpenApi;

namespace Claims.Api.Auth;

/// <summary>A key for the verification desk.</summary>
internal sealed class KeyExamples : IOpenApiExamples
{
    private static readonly Guid KeyId = Guid.Parse("0192b8a0-a000-7000-8000-000000000001");
    private static readonly DateTime Created = new(2024, 10, 23, 14, 5, 0, DateTimeKind.Utc);

    public void Register(OpenApiExampleRegistry examples) => examples
        .Add(new ApiKeyRequest("verification-desk", Role.Editor))
        .Add(new CreatedApiKey(KeyId, "verification-desk", Role.Editor, Created, "clm_example-secret-shown-once-0000000000000000000"))
        .Add(new ApiKey(KeyId, "verification-desk", Role.Editor, Created, null));
}
