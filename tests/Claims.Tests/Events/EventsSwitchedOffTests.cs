using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// Events:Write=false, the events benchmark's baseline, writes the change and no event: the
/// comparison measures the outbox and nothing else.
/// </summary>
public sealed class EventsSwitchedOffTests : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client;

    public EventsSwitchedOffTests(ApiFactory api)
    {
        api.Settings["Events:Write"] = "false";
        _client = api.CreateClient();
    }

    [Fact]
    public async Task ChangesAreStoredAndNoEventIsWritten()
    {
        var source = await _client.SourceAsync();
        var claim = await _client.ClaimAsync(Story.Training, new { sourceId = source, stance = "asserts" });

        var stored = await (await _client.GetAsync($"/claims/{claim}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(Story.Training, stored.Str("statement"));
        Assert.Empty(await _client.ReadAsync(after: 0));
    }
}
