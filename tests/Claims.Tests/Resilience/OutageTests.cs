using System.Collections.Concurrent;
using System.Diagnostics;
using Claims.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace Claims.Tests;

/// <summary>
/// PostgreSQL goes away under a running API and comes back. This class runs its own private
/// server in a folder of its own, so stopping it disturbs no other test class.
/// </summary>
[Collection(TimeBound.Name)]
public sealed class OutageTests : IAsyncLifetime
{
    /// <summary>The longest any one request may take to answer, database or not (the README's promise).</summary>
    private static readonly TimeSpan AnswerWithin = TimeSpan.FromSeconds(6);

    private readonly string _adminKey = "outage-admin-" + Guid.NewGuid().ToString("N");
    private PrivateServer? _server;
    private WebApplicationFactory<Program>? _factory;

    public async Task InitializeAsync()
    {
        _server = await PrivateServer.StartAsync("claims_outage");
        var app = _server.ConnectionString;
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Development");
            builder.UseSetting("ConnectionStrings:Claims", app);
            builder.UseSetting("Database:MigrateOnStartup", "false");
            builder.UseSetting("Database:SeedWhenEmpty", "false");
            builder.UseSetting("Auth:BootstrapAdminKey", _adminKey);
            builder.UseSetting("RateLimiting:RequestsPerMinute", "0");
            builder.UseSetting("RateLimiting:WritesPerMinute", "0");
        });
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task WhileTheDatabaseIsDownRequestsAre503WithRetryAfterAndTheApiRecoversByItselfKeepingEveryAcknowledgedWrite()
    {
        var client = Client(_adminKey);
        var source = (await (await SendAsync(client, HttpMethod.Post, "/sources", new { name = "Suspilne", kind = "outlet", reliability = "C" })).ReadJsonAsync(HttpStatusCode.Created)).Id();
        var acknowledged = new ConcurrentDictionary<Guid, string>();
        for (var i = 0; i < 5; i++)
        {
            var statement = $"North Korean soldiers are training in Russia, report {i}.";
            var created = await (await SendAsync(client, HttpMethod.Post, "/claims", new { statement, evidence = new[] { new { sourceId = source, stance = "asserts" } } }))
                .ReadJsonAsync(HttpStatusCode.Created);
            acknowledged[created.Id()] = statement;
        }

        var claim = acknowledged.Keys.First();
        var evidence = (await (await SendAsync(client, HttpMethod.Get, $"/claims/{claim}")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("evidence")[0].Id();
        var keyResponse = await (await SendAsync(client, HttpMethod.Post, "/admin/keys", new { name = "night desk", role = "editor" })).ReadJsonAsync(HttpStatusCode.Created);
        var storedKey = keyResponse.Str("key");
        var storedKeyId = keyResponse.Id();
        await (await SendAsync(Client(storedKey), HttpMethod.Get, "/claims?limit=1")).ReadJsonAsync(HttpStatusCode.OK);

        // Writes keep coming while the server shuts down: each is acknowledged, refused (nothing
        // written), or, when its COMMIT was on its way as the server went, unconfirmed.
        using var stopWriting = new CancellationTokenSource();
        var writerAnswers = new ConcurrentBag<string>();
        var refused = new ConcurrentBag<string>();
        var writer = Task.Run(async () =>
        {
            for (var i = 0; !stopWriting.IsCancellationRequested; i++)
            {
                var statement = $"Claim logged during the shutdown, number {i}.";
                var response = await SendAsync(client, HttpMethod.Post, "/claims", new { statement });
                writerAnswers.Add($"{(int)response.StatusCode}");
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    acknowledged[(await response.ReadJsonAsync(HttpStatusCode.Created)).Id()] = statement;
                }
                else if (response.StatusCode == HttpStatusCode.GatewayTimeout)
                {
                    Assert.Contains("may or may not be stored", (await response.ReadProblemAsync(HttpStatusCode.GatewayTimeout)).Str("detail"));
                }
                else
                {
                    await response.ReadProblemAsync(HttpStatusCode.ServiceUnavailable);
                    refused.Add(statement);
                }
            }
        });
        await Task.Delay(200);

        await _server!.StopAsync();
        await Task.Delay(500);
        await stopWriting.CancelAsync();
        await writer;
        Assert.Contains("503", writerAnswers);

        // Down: every request that needs the database is a quick 503 problem with Retry-After,
        // the first round meeting the pooled connections the shutdown broke, the second none.
        var needTheDatabase = new (HttpMethod Method, string Url, object? Body)[]
        {
            (HttpMethod.Get, "/claims", null),
            (HttpMethod.Get, "/claims?q=soldiers&limit=5", null),
            (HttpMethod.Get, "/claims/similar?text=North%20Korean%20soldiers", null),
            (HttpMethod.Get, $"/claims/{claim}", null),
            (HttpMethod.Get, $"/claims/{claim}/status", null),
            (HttpMethod.Get, $"/claims/{claim}/history", null),
            (HttpMethod.Get, $"/claims/{claim}/evidence", null),
            (HttpMethod.Get, $"/claims/{claim}/evidence/{evidence}", null),
            (HttpMethod.Get, "/sources", null),
            (HttpMethod.Get, $"/sources/{source}", null),
            (HttpMethod.Get, $"/sources/{source}/claims", null),
            (HttpMethod.Get, "/stats", null),
            (HttpMethod.Get, "/admin/keys", null),
            (HttpMethod.Post, "/claims/statuses", new { ids = acknowledged.Keys.ToArray() }),
            (HttpMethod.Post, "/claims", new { statement = "Outage write: North Korean soldiers are in Kursk." }),
            (HttpMethod.Post, "/sources", new { name = "Outage write: Hromadske", kind = "outlet" }),
            (HttpMethod.Put, $"/claims/{claim}", new { statement = "Outage write: North Korean soldiers have deserted." }),
            (HttpMethod.Put, $"/sources/{source}", new { name = "Outage write: Suspilne", kind = "outlet" }),
            (HttpMethod.Put, $"/claims/{claim}/status", new { status = "in_review", note = "Outage write." }),
            (HttpMethod.Post, $"/claims/{claim}/evidence", new { sourceId = source, stance = "supports", note = "Outage write." }),
            (HttpMethod.Delete, $"/claims/{claim}/evidence/{evidence}", null),
            (HttpMethod.Delete, $"/claims/{claim}", null),
            (HttpMethod.Delete, $"/sources/{source}", null),
            (HttpMethod.Post, "/admin/keys", new { name = "Outage write", role = "reader" }),
            (HttpMethod.Delete, $"/admin/keys/{storedKeyId}", null),
        };
        for (var round = 0; round < 2; round++)
        {
            foreach (var (method, url, body) in needTheDatabase)
            {
                await AssertUnavailableAsync(await SendAsync(client, method, url, body, ifMatch: "\"1\""), $"{method} {url}");
            }

            // A key the API has not seen lately can only be checked in the database: 503, not 401.
            await AssertUnavailableAsync(await SendAsync(Client(Claims.Api.Auth.ApiKeyStore.NewSecret()), HttpMethod.Get, "/claims"), "GET /claims with an unknown key");
            var ready = await SendAsync(client, HttpMethod.Get, "/health/ready");
            var notReady = await ready.ReadProblemAsync(HttpStatusCode.ServiceUnavailable);
            Assert.Equal("Unhealthy", notReady.GetProperty("checks").GetProperty("postgres").Str("status"));
            Assert.NotNull(ready.Headers.RetryAfter);
            var live = await SendAsync(client, HttpMethod.Get, "/health/live");
            Assert.Equal("Healthy", (await live.ReadJsonAsync(HttpStatusCode.OK)).Str("status"));
            // What needs no database still answers as usual.
            var anonymous = await SendAsync(Client(null), HttpMethod.Get, "/claims");
            await anonymous.ReadProblemAsync(HttpStatusCode.Unauthorized);
        }

        // Back: the same port, and no restart of the API.
        var restarted = await _server.StartAgainAsync();
        Assert.Equal(new NpgsqlConnectionStringBuilder(_server.ConnectionString).Port, new NpgsqlConnectionStringBuilder(restarted).Port);
        await WaitUntilReadyAsync(client);

        var first = await (await SendAsync(client, HttpMethod.Post, "/claims", new { statement = "North Korean soldiers have arrived in Kursk." })).ReadJsonAsync(HttpStatusCode.Created);
        acknowledged[first.Id()] = "North Korean soldiers have arrived in Kursk.";
        await (await SendAsync(client, HttpMethod.Put, $"/claims/{claim}/status", new { status = "in_review", note = "Seeking a second source." }, ifMatch: "\"1\""))
            .ReadJsonAsync(HttpStatusCode.OK);
        await (await SendAsync(Client(storedKey), HttpMethod.Get, "/claims?limit=1")).ReadJsonAsync(HttpStatusCode.OK);
        foreach (var (id, statement) in acknowledged)
        {
            var stored = await (await SendAsync(client, HttpMethod.Get, $"/claims/{id}")).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal(statement, stored.Str("statement"));
        }

        var evidenceAfter = await (await SendAsync(client, HttpMethod.Get, $"/claims/{claim}/evidence/{evidence}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(source, evidenceAfter.GetProperty("source").Id());
        var sourceAfter = await (await SendAsync(client, HttpMethod.Get, $"/sources/{source}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("Suspilne", sourceAfter.Str("name"));
        Assert.Equal(0L, await ScalarAsync(
            "SELECT (SELECT count(*) FROM claims WHERE statement LIKE 'Outage write%') + (SELECT count(*) FROM sources WHERE name LIKE 'Outage write%')" +
            " + (SELECT count(*) FROM evidence WHERE note LIKE 'Outage write%') + (SELECT count(*) FROM api_keys WHERE name LIKE 'Outage write%')" +
            " + (SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL)"));
        foreach (var statement in refused)
        {
            Assert.Equal(0L, await ScalarAsync($"SELECT count(*) FROM claims WHERE statement = '{statement}'"));
        }
    }

    private HttpClient Client(string? key)
    {
        var client = _factory!.CreateClient();
        client.Timeout = Timeout.InfiniteTimeSpan;
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
        }

        return client;
    }

    /// <summary>Sends with a deadline: a request that hangs fails the test instead of stalling it.</summary>
    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string url, object? body = null, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (ifMatch is not null && (method == HttpMethod.Put || method == HttpMethod.Delete))
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        using var deadline = new CancellationTokenSource(AnswerWithin);
        try
        {
            var response = await client.SendAsync(request, deadline.Token);
            await response.Content.LoadIntoBufferAsync(deadline.Token);
            return response;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Assert.Fail($"{method} {url} did not answer within {AnswerWithin.TotalSeconds} s.");
            throw;
        }
    }

    private static async Task AssertUnavailableAsync(HttpResponseMessage response, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{what} while the database is down: expected 503, got {(int)response.StatusCode}: {text}");
        var problem = await response.ReadProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Contains("database", problem.Str("title"), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Retry", problem.Str("detail"), StringComparison.Ordinal);
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is not null, $"{what}: 503 without Retry-After in seconds.");
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));
    }

    private static async Task WaitUntilReadyAsync(HttpClient client)
    {
        var deadline = Stopwatch.StartNew();
        var last = "";
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            var ready = await SendAsync(client, HttpMethod.Get, "/health/ready");
            if (ready.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            last = $"{(int)ready.StatusCode} {await ready.Content.ReadAsStringAsync()}";
            await Task.Delay(250);
        }

        Assert.Fail($"/health/ready did not return to 200 within 60 s of the database coming back; last answer: {last}");
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_server!.Unpooled);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
