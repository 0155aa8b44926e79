using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// GET /metrics: OpenTelemetry's measures in Prometheus' text format, after real traffic through
/// the app to a real PostgreSQL: request durations per route, the connection pool, and what is
/// waiting. A reader's key is needed unless Telemetry:MetricsNeedKey is false.
/// </summary>
public sealed class MetricsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task AfterSomeTrafficTheMetricsHoldTheDurationOfEachRouteThePoolAndTheBacklogs()
    {
        // A process of its own, as in production: in this test process every app's OpenTelemetry
        // listens to the framework's meters by name, and one app's shutdown ends the others' streams.
        await using var server = await ApiServer.StartAsync(api.ConnectionString);
        using var client = server.CreateClient(server.AdminKey);
        var claim = await client.ClaimAsync(Story.Training);
        for (var i = 0; i < 3; i++)
        {
            await (await client.GetAsync($"/claims/{claim}/status")).ReadJsonAsync(HttpStatusCode.OK);
        }

        await (await client.GetAsync($"/claims/{Guid.NewGuid()}/status")).ReadProblemAsync(HttpStatusCode.NotFound);

        // The host records a request's duration as it disposes the request, which may be just
        // after the client has the answer: the scrape is repeated (a few times at most) until
        // the last look-up is in.
        var (ok, missing, lines) = await ScrapeAsync(client);
        for (var scrape = 0; scrape < 20 && (ok, missing) != (3, 1); scrape++)
        {
            await Task.Delay(50);
            (ok, missing, lines) = await ScrapeAsync(client);
        }

        Assert.Equal((3L, 1L), (ok, missing));
        Assert.Contains(lines, l => l.StartsWith("http_server_request_duration_seconds_bucket{", StringComparison.Ordinal) && l.Contains("http_route=\"/claims/\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("db_client_connection_count{", StringComparison.Ordinal) && l.Contains("db_client_connection_state=\"idle\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("db_client_connection_max{", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("db_client_operation_duration_seconds_bucket{", StringComparison.Ordinal));
        foreach (var gauge in new[] { "claims_events_outbox", "claims_webhooks_pending", "claims_imports_running" })
        {
            Assert.Contains(lines, l => l.StartsWith(gauge, StringComparison.Ordinal) && !l.StartsWith('#'));
        }
    }

    /// <summary>The status look-ups' 200s and 404s counted so far, and every line of the scrape.</summary>
    private static async Task<(long Ok, long Missing, string[] Lines)> ScrapeAsync(HttpClient client)
    {
        var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n');
        long Count(string status) => lines
            .Where(l => l.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
                && l.Contains("http_route=\"/claims/{id:guid}/status\"", StringComparison.Ordinal)
                && l.Contains($"http_response_status_code=\"{status}\"", StringComparison.Ordinal))
            .Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        return (Count("200"), Count("404"), lines);
    }

    [Fact]
    public async Task WithoutAKeyTheMetricsAre401()
    {
        using var anonymous = api.CreateClient(null, sendCurrentETag: false);

        var refused = await (await anonymous.GetAsync("/metrics")).ReadProblemAsync(HttpStatusCode.Unauthorized);

        Assert.Equal("/problems/unauthenticated", refused.Str("type"));
    }

    [Fact]
    public async Task TheMetricsAreNotPartOfTheApiDocument()
    {
        var document = await (await _client.GetAsync("/swagger/v1/swagger.json")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.False(document.GetProperty("paths").TryGetProperty("/metrics", out _));
    }
}

/// <summary>Telemetry:MetricsNeedKey=false: a scraper on a private network reads /metrics without a key.</summary>
public sealed class OpenMetricsTests : IClassFixture<ApiFactory>
{
    private readonly ApiFactory _api;

    public OpenMetricsTests(ApiFactory api)
    {
        api.Settings["Telemetry:MetricsNeedKey"] = "false";
        _api = api;
    }

    [Fact]
    public async Task TheMetricsAnswerWithoutAKey()
    {
        using var anonymous = _api.CreateClient(null, sendCurrentETag: false);
        await (await anonymous.GetAsync("/health/live")).ReadJsonAsync(HttpStatusCode.OK);

        var response = await anonymous.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
