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
        var claim = await _client.ClaimAsync(Story.Training);
        for (var i = 0; i < 3; i++)
        {
            await (await _client.GetAsync($"/claims/{claim}/status")).ReadJsonAsync(HttpStatusCode.OK);
        }

        await (await _client.GetAsync($"/claims/{Guid.NewGuid()}/status")).ReadProblemAsync(HttpStatusCode.NotFound);

        // The host records a request's duration as it disposes the request, which may be just
        // after the client has the answer: the scrape is repeated (a few times at most) until
        // the last look-up is in.
        HttpResponseMessage response = null!;
        string[] lines = [];
        List<string> status = [];
        for (var scrape = 0; scrape < 20; scrape++)
        {
            response = await _client.GetAsync("/metrics");
            lines = (await response.Content.ReadAsStringAsync()).Split('\n');
            status = lines.Where(l => l.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
                && l.Contains("http_route=\"/claims/{id:guid}/status\"", StringComparison.Ordinal)).ToList();
            if (status.Count(l => l.Contains("http_response_status_code=", StringComparison.Ordinal)) == 2 && status.Any(l => l.EndsWith(" 3", StringComparison.Ordinal)))
            {
                break;
            }

            await Task.Delay(50);
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Contains(status, l => l.Contains("http_response_status_code=\"200\"", StringComparison.Ordinal) && l.EndsWith(" 3", StringComparison.Ordinal));
        Assert.Contains(status, l => l.Contains("http_response_status_code=\"404\"", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("http_server_request_duration_seconds_bucket{", StringComparison.Ordinal) && l.Contains("http_route=\"/claims/\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("db_client_connection_count{", StringComparison.Ordinal) && l.Contains("db_client_connection_state=\"idle\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("db_client_connection_max{", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("db_client_operation_duration_seconds_bucket{", StringComparison.Ordinal));
        foreach (var gauge in new[] { "claims_events_outbox", "claims_webhooks_pending", "claims_imports_running" })
        {
            Assert.Contains(lines, l => l.StartsWith(gauge, StringComparison.Ordinal) && !l.StartsWith('#'));
        }
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
