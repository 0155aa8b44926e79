namespace Claims.Tests.Infrastructure;

/// <summary>Creates the records a test needs through the API itself, with values from the seed story.</summary>
public static class Story
{
    // The seed story's statements, for every test that logs a claim.
    public const string Training = "North Korean soldiers are training in Russia.";
    public const string Troops = "North Korean troops are in Russia.";
    public const string Deserted = "North Korean soldiers sent to Russia have deserted.";
    public const string Desertions = "Hromadske counted 18 desertions among North Korean troops.";
    public const string Bennett = "Bruce W. Bennett says the families stay behind in Pyongyang.";
    public const string Hostages = "North Korea keeps soldiers' families in Pyongyang as hostages.";

    // The same story in the other languages the newsroom logs it in.
    public const string UkrainianDesertion = "Північнокорейські військові дезертирували з частини";
    public const string RussianDesertion = "Северокорейские солдаты дезертировали из воинской части";
    public const string KoreanTraining = "북한군이 러시아에서 훈련을 받고 있다";

    /// <summary>Every claim status, in the order a claim usually moves through them.</summary>
    public static readonly string[] Statuses = ["unverified", "in_review", "confirmed", "disputed", "false", "inconclusive"];

    public static async Task<Guid> SourceAsync(this HttpClient client, string name = "Lloyd Austin", string kind = "person", string? reliability = "B")
    {
        var response = await client.PostAsJsonAsync("/sources", new { name, kind, reliability, description = "US Secretary of Defense." });
        return (await response.ReadJsonAsync(HttpStatusCode.Created)).Id();
    }

    public static async Task<Guid> ClaimAsync(this HttpClient client, string statement = Training, params object[] evidence)
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
