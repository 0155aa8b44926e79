using System.Diagnostics;
using Claims.Api.Auth;
using Claims.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Claims.Tests;

/// <summary>
/// A revoked key is refused by every instance within 1 s, however it was revoked: two API
/// processes on one database, each of which keeps the keys it found in memory.
/// </summary>
[Collection(TimeBound.Name)]
public sealed class KeyRevocationTests(KeyRevocationTests.TwoInstances instances, ITestOutputHelper output)
    : IClassFixture<KeyRevocationTests.TwoInstances>
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PollEvery = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task AKeyRevokedThroughOneInstanceIsRefusedByTheOtherWithinOneSecond()
    {
        var (id, secret) = await MintAndUseOnBothAsync("Hromadske night desk");
        using var admin = instances.A.CreateClient(instances.A.AdminKey);

        var revoke = await admin.DeleteAsync($"/admin/keys/{id}");
        var sinceRevocation = Stopwatch.StartNew();

        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        await RefusedWithinOneSecondAsync(instances.B, secret, sinceRevocation);
    }

    [Fact]
    public async Task AKeyRevokedDirectlyInTheDatabaseIsRefusedByEveryInstanceWithinOneSecond()
    {
        var (id, secret) = await MintAndUseOnBothAsync("Suspilne wire desk");

        Assert.Equal(1L, await ScalarAsync("UPDATE api_keys SET revoked_at = now() WHERE id = @value RETURNING 1::bigint", id));
        var sinceRevocation = Stopwatch.StartNew();

        await Task.WhenAll(
            RefusedWithinOneSecondAsync(instances.A, secret, sinceRevocation),
            RefusedWithinOneSecondAsync(instances.B, secret, sinceRevocation));
    }

    [Fact]
    public async Task InstancesWhoseNotificationConnectionIsCutStillRefuseARevokedKeyWithinOneSecondAndListenAgain()
    {
        var (id, secret) = await MintAndUseOnBothAsync("Business Insider weekend desk");

        var cut = await ScalarAsync(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND starts_with(query, @value)",
            KeyRevocationListener.Tag);
        Assert.Equal(2L, cut);
        Assert.Equal(1L, await ScalarAsync("UPDATE api_keys SET revoked_at = now() WHERE id = @value RETURNING 1::bigint", id));
        var sinceRevocation = Stopwatch.StartNew();

        await Task.WhenAll(
            RefusedWithinOneSecondAsync(instances.A, secret, sinceRevocation),
            RefusedWithinOneSecondAsync(instances.B, secret, sinceRevocation));
        await instances.A.WaitForOutputAsync("Listening for API key changes again", TimeSpan.FromSeconds(30));
        await instances.B.WaitForOutputAsync("Listening for API key changes again", TimeSpan.FromSeconds(30));
        var (nextId, nextSecret) = await MintAndUseOnBothAsync("Business Insider Monday desk");
        using var admin = instances.A.CreateClient(instances.A.AdminKey);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/admin/keys/{nextId}")).StatusCode);
        await RefusedWithinOneSecondAsync(instances.B, nextSecret, Stopwatch.StartNew());
    }

    /// <summary>
    /// A new key, used once on each instance and then shown to be in each one's memory: with the
    /// keys table locked, both still accept it, which they could not if they looked it up.
    /// </summary>
    private async Task<(Guid Id, string Secret)> MintAndUseOnBothAsync(string name)
    {
        using var admin = instances.A.CreateClient(instances.A.AdminKey);
        var created = await (await admin.PostAsJsonAsync("/admin/keys", new { name, role = "reader" })).ReadJsonAsync(HttpStatusCode.Created);
        var secret = created.Str("key");
        using var onA = instances.A.CreateClient(secret);
        using var onB = instances.B.CreateClient(secret);
        await (await onA.GetAsync("/claims?limit=1")).ReadJsonAsync(HttpStatusCode.OK);
        await (await onB.GetAsync("/claims?limit=1")).ReadJsonAsync(HttpStatusCode.OK);

        await using (await TableLock.TakeAsync(instances.ConnectionString, "api_keys"))
        {
            foreach (var (server, client) in new[] { (instances.A, onA), (instances.B, onB) })
            {
                var response = await client.GetAsync("/claims?limit=1");
                Assert.True(response.StatusCode == HttpStatusCode.OK,
                    $"{server.Address} looked the key up again instead of using the one it had just found (the lookup waited for the lock): {(int)response.StatusCode}");
            }
        }

        return (created.Id(), secret);
    }

    /// <summary>Polls every 50 ms; a request sent 1 s or more after the revocation must be refused.</summary>
    private async Task RefusedWithinOneSecondAsync(ApiServer server, string secret, Stopwatch sinceRevocation)
    {
        using var client = server.CreateClient(secret);
        while (true)
        {
            var sentAt = sinceRevocation.Elapsed;
            using var response = await client.GetAsync("/claims?limit=1");
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                var problem = await response.ReadProblemAsync(HttpStatusCode.Unauthorized);
                Assert.Contains("unknown or revoked", problem.Str("detail"));
                output.WriteLine($"{server.Address} refused the key in a request sent {sentAt.TotalMilliseconds:0} ms after the revocation committed.");
                return;
            }

            await response.ReadJsonAsync(HttpStatusCode.OK);
            Assert.True(sentAt < Within,
                $"{server.Address} still accepted the revoked key in a request sent {sentAt.TotalMilliseconds:0} ms after the revocation committed; it must refuse it within {Within.TotalMilliseconds:0} ms.");
            await Task.Delay(PollEvery);
        }
    }

    /// <summary>Runs SQL with one parameter, @value, on the instances' database.</summary>
    private async Task<long> ScalarAsync(string sql, object value)
    {
        await using var connection = new NpgsqlConnection(instances.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("value", value);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Two API processes on one database of their own, both listening for changed keys.</summary>
    public sealed class TwoInstances() : TwoApiServers("Listening for API key changes");
}
