using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Claims.Api.Claims;
using Claims.Tests.Infrastructure;
using Npgsql;

namespace Claims.Tests;

/// <summary>
/// The keys the near-duplicate look-up files claims under (claim_similarity_keys) follow the
/// statements: written with a claim, replaced with its statement, removed with the claim, and
/// written by the backfill for claims that have none. The class's tests share a database, so each
/// writes statements of its own.
/// </summary>
public sealed class SimilarityKeysTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task ALoggedClaimIsFiledUnderItsStatementsKeysAndFoundAtOnce()
    {
        const string statement = "Belarusian engineers repaired the rail bridge near Homel overnight.";
        var claim = await _client.ClaimAsync(statement);

        Assert.Equal(SimilarityKeys.For(statement).Length, await FiledAsync(claim));
        Assert.Equal(1.0, await ScoreAsync("Belarusian engineers repaired the rail bridge near Homel overnight", claim));
    }

    [Fact]
    public async Task ReplacingTheStatementRefilesTheClaimUnderTheNewOne()
    {
        const string before = "Three grain ships left Odesa harbour under naval escort on Tuesday.";
        const string after = "Hackers took the regional power company's billing system offline for a day.";
        var claim = await _client.ClaimAsync(before);

        await (await _client.PutAsJsonAsync($"/claims/{claim}", new { statement = after })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Null(await ScoreAsync(before, claim));
        Assert.Equal(1.0, await ScoreAsync(after, claim));
        Assert.Equal(SimilarityKeys.For(after).Length, await FiledAsync(claim));
        Assert.Equal(0, await TestDatabase.ScalarAsync(api.ConnectionString,
            "SELECT count(*) FROM claim_similarity_keys WHERE claim_id = @value AND key <> ALL (SELECT unnest(similarity_keys) FROM claims WHERE id = @value)", claim));
    }

    [Fact]
    public async Task PatchingOnlyTheSummaryKeepsTheKeysAndTheClaimFound()
    {
        const string statement = "A drone struck the fuel depot outside Bryansk before dawn on Sunday.";
        var claim = await _client.ClaimAsync(statement);
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/claims/{claim}")
        {
            Content = new StringContent("""{"summary":"Local officials confirm the fire."}""", Encoding.UTF8, "application/merge-patch+json"),
            Headers = { IfMatch = { new EntityTagHeaderValue("\"1\"") } },
        };

        await (await _client.SendAsync(patch)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(SimilarityKeys.For(statement).Length, await FiledAsync(claim));
        Assert.Equal(1.0, await ScoreAsync(statement, claim));
    }

    [Fact]
    public async Task DeletingAClaimRemovesItsKeys()
    {
        var claim = await _client.ClaimAsync("Smugglers moved forty crates of rifles across the Moldovan border at night.");
        Assert.True(await FiledAsync(claim) > 0);

        using var delete = new HttpRequestMessage(HttpMethod.Delete, $"/claims/{claim}");
        Assert.Equal(HttpStatusCode.NoContent, (await _client.SendAsync(delete)).StatusCode);

        Assert.Equal(0, await FiledAsync(claim));
    }

    [Fact]
    public async Task TheBackfillFilesClaimsWrittenWithoutKeysAndLeavesFiledOnesAlone()
    {
        const string statement = "Фермери повідомили про мінування полів біля Гуляйполя після відступу.";
        var unfiled = Guid.CreateVersion7();
        var filed = await _client.ClaimAsync("Сапери розмінували міст біля Херсона минулої ночі.");
        var filedKeys = await KeysAsync(filed);
        await using var db = NpgsqlDataSource.Create(api.ConnectionString);
        await using (var insert = db.CreateCommand("INSERT INTO claims (id, statement, language) VALUES ($1, $2, 'uk')"))
        {
            insert.Parameters.Add(new() { Value = unfiled });
            insert.Parameters.Add(new() { Value = statement });
            await insert.ExecuteNonQueryAsync();
        }

        Assert.Null(await ScoreAsync(statement, unfiled));

        var count = await SimilarityBackfill.FileAllAsync(db, CancellationToken.None);

        Assert.Equal(1, count);
        Assert.Equal(1.0, await ScoreAsync(statement, unfiled));
        Assert.Equal(SimilarityKeys.For(statement), await KeysAsync(unfiled));
        Assert.Equal(filedKeys, await KeysAsync(filed));
        Assert.Equal(0, await SimilarityBackfill.FileAllAsync(db, CancellationToken.None));
    }

    [Fact]
    public async Task AStatementOfOnlyPunctuationHasNoKeysAndFindsNothing()
    {
        var claim = await _client.ClaimAsync("?!");

        Assert.Equal(0, await FiledAsync(claim));
        var page = await (await _client.GetAsync("/claims/similar?text=%3F%21&minScore=0.1")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(0, page.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task KeysDependOnlyOnTheTrigramsAsSimilarityDoes()
    {
        // similarity() lower-cases and reads only letters and digits, so neither may change a key.
        Assert.Equal(SimilarityKeys.For("Troops were seen near Kursk."), SimilarityKeys.For("TROOPS were seen, near \"Kursk\""));
        Assert.NotEqual(SimilarityKeys.For("Troops were seen near Kursk."), SimilarityKeys.For("Troops were seen near Kurks."));
        Assert.Empty(SimilarityKeys.For("... !!! ---"));
        Assert.Equal(SimilarityKeys.Bands, SimilarityKeys.For("북한군이 쿠르스크에서 훈련하고 있다").Length);
        // Known values: stored keys are data, so a change to the function must be a deliberate one
        // (a migration that clears the keys), never an accident of refactoring.
        Assert.Equal(-8_385_229_104_716_581_670, SimilarityKeys.For("Troops were seen near Kursk.")[0]);
    }

    private Task<long> FiledAsync(Guid claim) =>
        TestDatabase.ScalarAsync(api.ConnectionString, "SELECT count(*) FROM claim_similarity_keys WHERE claim_id = @value", claim);

    private async Task<long[]> KeysAsync(Guid claim)
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT similarity_keys FROM claims WHERE id = $1", connection) { Parameters = { new() { Value = claim } } };
        return (long[])(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The claim's score when GET /claims/similar finds it for the text, else null.</summary>
    private async Task<double?> ScoreAsync(string text, Guid claim)
    {
        var page = await (await _client.GetAsync($"/claims/similar?limit=50&minScore=0.3&text={Uri.EscapeDataString(text)}")).ReadJsonAsync(HttpStatusCode.OK);
        return page.GetProperty("items").EnumerateArray()
            .Where(i => i.GetProperty("claim").Id() == claim)
            .Select(i => (double?)i.GetProperty("score").GetDouble())
            .SingleOrDefault();
    }
}
