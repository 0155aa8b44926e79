using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// Claims:IndependentOrigins=false, for desks that do not record provenance: any 'supports' item
/// grounds a confirmation, as before chains and relations existed, while the answers still count
/// the origins.
/// </summary>
public sealed class IndependentOriginsSwitchedOffTests : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client;

    public IndependentOriginsSwitchedOffTests(ApiFactory api)
    {
        api.Settings["Claims:IndependentOrigins"] = "false";
        _client = api.CreateClient();
    }

    [Fact]
    public async Task TheAsserterSupportingItselfConfirmsAndTheRulesSaySo()
    {
        var austin = await _client.SourceAsync("Lloyd Austin", "person", "B");
        var claim = await _client.ClaimAsync(Story.Training,
            Story.Evidence(austin, "asserts", "there is evidence"),
            Story.Evidence(austin, "supports", "we have seen it"));

        var confirmed = await _client.SetStatusAsync(claim, "confirmed", "The desk records no provenance.");
        var rules = await (await _client.GetAsync("/claims/status-rules")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("confirmed", confirmed.Str("status"));
        Assert.Equal(1, confirmed.GetProperty("independentOrigins").GetProperty("supports").GetInt32());
        var confirm = rules.GetProperty("rules").EnumerateArray().Single(r => r.Str("status") == "confirmed");
        Assert.False(confirm.GetProperty("needsIndependentOrigin").GetBoolean());
        Assert.Equal("Confirming needs a note saying why and at least one evidence item whose stance is 'supports'.", confirm.Str("rule"));
    }
}
