using Claims.Tests.Infrastructure;
using Npgsql;

namespace Claims.Tests;

[Collection(TimeBound.Name)]
public sealed class BusyDatabaseTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task AStatusChangeThatWaitsPastTheStatementTimeoutIs503WithRetryAfterAndChangesNothing()
    {
        var claim = await _client.ClaimAsync("North Korean soldiers have deserted.");
        await using var blocker = new NpgsqlConnection(api.ConnectionString);
        await blocker.OpenAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM claims WHERE id = @id FOR UPDATE", blocker, transaction))
        {
            lockRow.Parameters.AddWithValue("id", claim);
            await lockRow.ExecuteNonQueryAsync();
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var response = await _client.PutAsJsonAsync($"/claims/{claim}/status", new { status = "in_review", note = "Checking with Hromadske." }, deadline.Token);
        await transaction.RollbackAsync();

        var problem = await response.ReadProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Contains("Retry", problem.Str("detail"));
        Assert.NotNull(response.Headers.RetryAfter);
        var status = await (await _client.GetAsync($"/claims/{claim}/status")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("unverified", status.Str("status"));
    }
}
