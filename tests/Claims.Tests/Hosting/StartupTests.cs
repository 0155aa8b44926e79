using Claims.Tests.Infrastructure;
using Npgsql;

namespace Claims.Tests;

/// <summary>The published program's verbs and start-up rules, run as a separate process like an operator would.</summary>
public sealed class StartupTests(ApiFactory api) : IClassFixture<ApiFactory>
{

    [Fact]
    public async Task SeedVerbLoadsTheStoryAndRunningItAgainChangesNothing()
    {
        // A database of its own: the class's is seeded by another test, in an order xunit chooses.
        var database = await TestDatabase.CreateAsync();
        try
        {
            var first = await RunApiAsync(["seed"], database, "Production");
            Assert.True(first.ExitCode == 0, first.Output);
            Assert.Contains("10 new sources", first.Output);
            var counts = await CountsAsync(database);

            var second = await RunApiAsync(["seed"], database, "Production");

            Assert.True(second.ExitCode == 0, second.Output);
            Assert.Contains("0 new sources, 0 new claims, 0 new evidence items", second.Output);
            Assert.Equal(counts, await CountsAsync(database));
            Assert.True(counts.Claims >= 7, $"Expected the seed story's claims, got {counts}");
        }
        finally
        {
            await TestDatabase.DropAsync(database);
        }
    }

    [Fact]
    public async Task SeededDesertionClaimIsNotConfirmedAndCarriesEveryStance()
    {
        await RunApiAsync(["seed"], api.ConnectionString, "Production");
        var client = api.CreateClient();

        var page = await (await client.GetAsync("/claims?limit=200")).ReadJsonAsync(HttpStatusCode.OK);
        var desertion = page.GetProperty("items").EnumerateArray()
            .Single(c => c.Str("statement").Contains("deserted", StringComparison.Ordinal) && c.Str("language") == "en");
        var status = await (await client.GetAsync($"/claims/{desertion.Id()}/status")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.NotEqual("confirmed", status.Str("status"));
        Assert.True(status.GetProperty("evidenceCounts").GetProperty("asserts").GetInt32() >= 2);
        Assert.Equal(2, status.GetProperty("evidenceCounts").GetProperty("unableToVerify").GetInt32());
        var detail = await (await client.GetAsync($"/claims/{desertion.Id()}")).ReadJsonAsync(HttpStatusCode.OK);
        var names = detail.GetProperty("evidence").EnumerateArray().Select(e => e.GetProperty("source").Str("name")).ToList();
        Assert.Contains("Suspilne", names);
        Assert.Contains("Hromadske", names);
        Assert.Contains("Business Insider", names);
    }

    [Fact]
    public async Task TheHealthVerbExitsZeroWhileTheApiIsReadyAndOneWhenNothingAnswers()
    {
        await using var server = await ApiServer.StartAsync(api.ConnectionString);
        var ready = await RunApiAsync(["health", new Uri(server.Address, "/health/ready").ToString()], connectionString: null, "Production");

        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var unused = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var nobody = await RunApiAsync(["health", $"http://127.0.0.1:{unused}/health/ready"], connectionString: null, "Production");

        Assert.True(ready.ExitCode == 0, ready.Output);
        Assert.Contains(": 200 {\"status\":\"Healthy\"", ready.Output, StringComparison.Ordinal);
        Assert.Equal(1, nobody.ExitCode);
        Assert.Contains("no answer", nobody.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OutsideDevelopmentAMissingConnectionStringStopsStartUpWithTheFix()
    {
        var run = await RunApiAsync([], connectionString: null, "Production");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("ConnectionStrings__Claims", run.Output);
    }

    [Fact]
    public async Task ATrustedProxyThatIsNoAddressStopsStartUpSayingWhatIsExpected()
    {
        var run = await ApiProcess.RunAsync([], api.ConnectionString, "Production",
            new Dictionary<string, string> { ["Network__TrustedProxies"] = "10.0.0.1,nginx" });

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("Network:TrustedProxies must be IP addresses or CIDR ranges, separated by commas.", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigratingAnAlreadyMigratedDatabaseIsANoOp()
    {
        var before = await ScalarAsync("SELECT count(*) FROM schema_migrations");

        Claims.Api.Data.Database.Migrate(api.ConnectionString, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        Assert.Equal(before, await ScalarAsync("SELECT count(*) FROM schema_migrations"));
        Assert.True(before >= 1);
    }

    [Fact]
    public async Task HealthEndpointsReportLiveAndReady()
    {
        var client = api.CreateClient();

        var live = await client.GetAsync("/health/live");
        var ready = await client.GetAsync("/health/ready");

        var liveBody = await live.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("application/json", live.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Healthy", liveBody.Str("status"));
        Assert.Empty(liveBody.GetProperty("checks").EnumerateObject());
        var readyBody = await ready.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("application/json", ready.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Healthy", readyBody.Str("status"));
        var postgres = readyBody.GetProperty("checks").GetProperty("postgres");
        Assert.Equal("Healthy", postgres.Str("status"));
        Assert.True(postgres.GetProperty("durationMs").GetInt64() >= 0);
    }

    [Fact]
    public async Task ReadinessFailsWhenTheDatabaseIsUnreachable()
    {
        var unreachable = new NpgsqlConnectionStringBuilder(api.ConnectionString) { Port = 1, Timeout = 2 }.ConnectionString;
        await using var factory = new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Claims", unreachable);
            b.UseSetting("Database:MigrateOnStartup", "false");
            b.UseSetting("Database:SeedWhenEmpty", "false");
            b.UseSetting("Auth:BootstrapAdminKey", api.AdminKey);
        });
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", api.AdminKey);

        var live = await client.GetAsync("/health/live");
        var ready = await client.GetAsync("/health/ready");
        var status = await client.GetAsync($"/claims/{Guid.CreateVersion7()}/status");

        Assert.Equal("Healthy", (await live.ReadJsonAsync(HttpStatusCode.OK)).Str("status"));
        var notReady = await ready.ReadProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("The service is not ready.", notReady.Str("title"));
        Assert.Contains("postgres", notReady.Str("detail"));
        Assert.Equal("Unhealthy", notReady.GetProperty("checks").GetProperty("postgres").Str("status"));
        Assert.NotNull(ready.Headers.RetryAfter);
        var problem = await status.ReadProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Contains("Retry", problem.Str("detail"));
        Assert.True(status.Headers.RetryAfter is not null);
    }

    [Fact]
    public void AMalformedCursorKeyStopsStartUpInsteadOfFailingEveryList()
    {
        using var factory = new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Claims", api.ConnectionString);
            b.UseSetting("Paging:CursorKey", "not base64!");
        });

        var failure = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("CursorKey", failure.ToString());
    }

    private static async Task<(long Sources, long Claims, long Evidence, long History)> CountsAsync(string database) => (
        await ScalarAsync(database, "SELECT count(*) FROM sources"),
        await ScalarAsync(database, "SELECT count(*) FROM claims"),
        await ScalarAsync(database, "SELECT count(*) FROM evidence"),
        await ScalarAsync(database, "SELECT count(*) FROM claim_status_changes"));

    private Task<long> ScalarAsync(string sql) => ScalarAsync(api.ConnectionString, sql);

    private static async Task<long> ScalarAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static Task<(int ExitCode, string Output)> RunApiAsync(string[] arguments, string? connectionString, string environment) =>
        ApiProcess.RunAsync(arguments, connectionString, environment);
}
