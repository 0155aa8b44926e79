using Claims.Tests.Infrastructure;

namespace Claims.Tests;

public sealed class IsolationTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task EachTestClassStartsOnAnEmptyMigratedDatabaseOfItsOwn()
    {
        var client = api.CreateClient();

        var claims = await (await client.GetAsync("/claims")).ReadJsonAsync(HttpStatusCode.OK);
        var sources = await (await client.GetAsync("/sources")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(0, claims.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, claims.GetProperty("nextCursor").ValueKind);
        Assert.Equal(0, sources.GetProperty("items").GetArrayLength());
        Assert.StartsWith("claims_test_", new Npgsql.NpgsqlConnectionStringBuilder(api.ConnectionString).Database);
    }
}
