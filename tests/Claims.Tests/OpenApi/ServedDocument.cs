using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>The OpenAPI document as the API serves it, and its operations, for the tests that read it.</summary>
public static class ServedDocument
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    public static async Task<JsonElement> ReadDocumentAsync(this HttpClient client) =>
        await (await client.GetAsync("/swagger/v1/swagger.json")).ReadJsonAsync(HttpStatusCode.OK);

    /// <summary>Every operation, with its method in capitals.</summary>
    public static IEnumerable<(string Path, string Method, JsonElement Operation)> Operations(JsonElement document) =>
        from path in document.GetProperty("paths").EnumerateObject()
        from operation in path.Value.EnumerateObject()
        where Methods.Contains(operation.Name)
        select (path.Name, operation.Name.ToUpperInvariant(), operation.Value);
}
