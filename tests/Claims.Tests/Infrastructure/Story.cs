namespace Claims.Tests.Infrastructure;

/// <summary>Creates the records a test needs through the API itself, with values from the seed story.</summary>
public static class Story
{
    public static async Task<Guid> SourceAsync(this HttpClient client, string name = "Lloyd Austin", string kind = "person", string? reliability = "B")
    {
        var response = await client.PostAsJsonAsync("/sources", new { name, kind, reliability, description = "US Secretary of Defense." });
        return (await response.ReadJsonAsync(HttpStatusCode.Created)).Id();
    }

    public static async Task<Guid> ClaimAsync(this HttpClient client, string statement = "North Korean soldiers are training in Russia.", params object[] evidence)
    {
        var response = await client.PostAsJsonAsync("/claims", new
        {
            statement,
            language = "en",
            tags = new[] { "north-korea", "russia" },
            firstReportedOn = "2024-10-23",
            evidence,
        });
        return (await response.ReadJsonAsync(HttpStatusCode.Created)).Id();
    }

    public static object Evidence(Guid sourceId, string stance, string? quote = "there is evidence", int? credibility = null) =>
        new { sourceId, stance, quote, credibility };

    public static async Task<JsonElement> SetStatusAsync(this HttpClient client, Guid claimId, string status, string? note, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await client.PutAsJsonAsync($"/claims/{claimId}/status", new { status, note });
        return expected == HttpStatusCode.OK
            ? await response.ReadJsonAsync(expected)
            : await response.ReadProblemAsync(expected);
    }
}
