using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// GET /sources/{id}/record: how the claims a source backed or refuted ended, each claim once, and
/// the grade that suggests by the documented rule (the lower end of a 95% Wilson interval, F below
/// five judged claims), beside the grade a person set.
/// </summary>
public sealed class SourceRecordTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task TheRecordCountsEachClaimOnceBySideAndHowItEndedAndSuggestsAGradeFromItsLowerBound()
    {
        var suspilne = await _client.SourceAsync("Suspilne", "outlet", "C");
        for (var i = 0; i < 5; i++)
        {
            await JudgedAsync(suspilne, "asserts", "confirmed", $"Soldiers deserted from unit {i}.");
        }

        // Asserting and supporting one claim is one backed claim.
        await JudgedAsync(suspilne, "supports", "false", "Soldiers deserted from the Kursk unit.", Story.Evidence(suspilne, "asserts", "they left"));
        await JudgedAsync(suspilne, "asserts", "disputed", "Soldiers were caught near Kursk.");
        await JudgedAsync(suspilne, "asserts", "in_review", "Soldiers were sent home.");
        await JudgedAsync(suspilne, "refutes", "false", "No soldier has left his unit.");
        await JudgedAsync(suspilne, "refutes", "inconclusive", "The unit was disbanded.");

        var record = await (await _client.GetAsync($"/sources/{suspilne}/record")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(suspilne, record.GetProperty("sourceId").GetGuid());
        Assert.Equal((5, 1, 1, 0, 1), Counts(record.GetProperty("backed")));
        Assert.Equal((0, 1, 0, 1, 0), Counts(record.GetProperty("refuted")));
        Assert.Equal((6, 1), (record.GetProperty("borneOut").GetInt32(), record.GetProperty("contradicted").GetInt32()));
        // 6 of 7 borne out: the interval's lower end is 0.487, a D, however good 86% looks.
        Assert.Equal(0.487, record.GetProperty("lowerBound").GetDouble());
        Assert.Equal("D", record.Str("suggestedReliability"));
        Assert.Equal("C", record.Str("reliability"));
        Assert.Contains("lower end of the 95% Wilson interval", record.Str("rule"), StringComparison.Ordinal);
        Assert.Equal("C", (await (await _client.GetAsync($"/sources/{suspilne}")).ReadJsonAsync(HttpStatusCode.OK)).Str("reliability"));
    }

    [Fact]
    public async Task FewerThanFiveJudgedClaimsCannotBeJudgedHoweverRight()
    {
        var austin = await _client.SourceAsync("Lloyd Austin", "person", "B");
        for (var i = 0; i < 4; i++)
        {
            await JudgedAsync(austin, "asserts", "confirmed", $"North Korean soldiers are training at base {i}.");
        }

        var record = await (await _client.GetAsync($"/sources/{austin}/record")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal((4, 0, 0, 0, 0), Counts(record.GetProperty("backed")));
        Assert.Equal(4, record.GetProperty("borneOut").GetInt32());
        Assert.Equal(JsonValueKind.Null, record.GetProperty("lowerBound").ValueKind);
        Assert.Equal("F", record.Str("suggestedReliability"));
        Assert.Equal("B", record.Str("reliability"));
    }

    [Fact]
    public async Task TenOfTenBorneOutSuggestsBAndAnUnknownSourceIs404()
    {
        var bennett = await _client.SourceAsync("Bruce W. Bennett", "person", "C");
        for (var i = 0; i < 10; i++)
        {
            await JudgedAsync(bennett, i % 2 == 0 ? "supports" : "refutes", i % 2 == 0 ? "confirmed" : "false", $"Families are kept in Pyongyang, case {i}.");
        }

        var record = await (await _client.GetAsync($"/sources/{bennett}/record")).ReadJsonAsync(HttpStatusCode.OK);
        var missing = Guid.NewGuid();
        var unknown = await (await _client.GetAsync($"/sources/{missing}/record")).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal((5, 0, 0, 0, 0), Counts(record.GetProperty("backed")));
        Assert.Equal((0, 5, 0, 0, 0), Counts(record.GetProperty("refuted")));
        Assert.Equal(0.722, record.GetProperty("lowerBound").GetDouble());
        Assert.Equal("B", record.Str("suggestedReliability"));
        Assert.Equal("/problems/not-found", unknown.Str("type"));
    }

    /// <summary>
    /// A claim on which <paramref name="source"/> takes <paramref name="stance"/>, moved to
    /// <paramref name="status"/> with the independent evidence that verdict needs from others.
    /// </summary>
    private async Task JudgedAsync(Guid source, string stance, string status, string statement, params object[] more)
    {
        var evidence = new List<object>(more) { Story.Evidence(source, stance) };
        if (stance != "asserts" && more.Length == 0)
        {
            evidence.Add(Story.Evidence(await _client.SourceAsync("Ukraine's defense agency", "government", "C"), "asserts"));
        }

        if (status == "confirmed" && stance != "supports")
        {
            evidence.Add(Story.Evidence(await _client.SourceAsync("NK News", "outlet", "B"), "supports"));
        }

        if (status == "false" && stance != "refutes")
        {
            evidence.Add(Story.Evidence(await _client.SourceAsync("Yonhap", "outlet", "B"), "refutes"));
        }

        var claim = await _client.ClaimAsync(statement, [.. evidence]);
        await _client.SetStatusAsync(claim, status, "Judged on the evidence.");
    }

    private static (int, int, int, int, int) Counts(JsonElement counts) =>
        (counts.GetProperty("confirmed").GetInt32(), counts.GetProperty("false").GetInt32(), counts.GetProperty("disputed").GetInt32(),
         counts.GetProperty("inconclusive").GetInt32(), counts.GetProperty("open").GetInt32());
}
