using System.Diagnostics.Metrics;
using Claims.Api.Auth;
using Dapper;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Claims.Api.Hosting;

/// <summary>Telemetry:* settings.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>Whether GET /metrics needs a reader's key (true) or is open, for a scraper on a private network.</summary>
    public bool MetricsNeedKey { get; set; } = true;
}

/// <summary>
/// OpenTelemetry: metrics always (served at /metrics in Prometheus' text format, and exported
/// over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set), traces only when that endpoint is set, so
/// that an instance nobody collects traces from records none. The measures come from the
/// libraries that own them: ASP.NET Core (requests by route, rate-limit rejections), HttpClient
/// (webhook deliveries), Npgsql (commands, pool use and wait).
/// </summary>
public static class Telemetry
{
    public const string MetricsPath = "/metrics";

    private const string ServiceName = "claims-api";

    public static IServiceCollection AddClaimsTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TelemetryOptions>().Bind(configuration.GetSection(TelemetryOptions.Section));
        services.AddSingleton<Backlogs>();
        services.AddHostedService(provider => provider.GetRequiredService<Backlogs>());
        // The SDK reads the standard OTEL_* variables itself; this only decides whether to export.
        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddNpgsqlInstrumentation()
                    .AddMeter("Microsoft.AspNetCore.RateLimiting", Backlogs.MeterName, Data.Reads.MeterName)
                    .AddPrometheusExporter();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddOtlpExporter());
        }

        return services;
    }

    /// <summary>GET /metrics, left out of the OpenAPI document: it is for scrapers, not API clients.</summary>
    public static void MapClaimsMetrics(this WebApplication app)
    {
        // GET only, as every read of the API: other methods answer 405.
        var endpoint = app.MapPrometheusScrapingEndpoint(MetricsPath).ExcludeFromDescription()
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get]));
        if (app.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>()?.MetricsNeedKey != false)
        {
            endpoint.Allow(Role.Reader);
        }
        else
        {
            endpoint.AllowAnonymous();
        }
    }
}

/// <summary>
/// What is waiting, as gauges: events written but not yet in the feed (the outbox), webhook
/// deliveries pending, import jobs running. Counted every 15 s by one statement, not on each
/// scrape, so that scraping never costs the database more than that; each count stops at 100,000,
/// since past that the number only says "far behind".
/// </summary>
public sealed class Backlogs : BackgroundService
{
    public const string MeterName = "Claims";

    private static readonly TimeSpan Every = TimeSpan.FromSeconds(15);

    private readonly NpgsqlDataSource _db;
    private readonly ILogger<Backlogs> _logger;
    private Counts _counts = new(0, 0, 0);

    public Backlogs(NpgsqlDataSource db, IMeterFactory meters, ILogger<Backlogs> logger)
    {
        _db = db;
        _logger = logger;
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("claims.events.outbox", () => _counts.Outbox, "{event}", "Events written but not yet in the feed.");
        meter.CreateObservableGauge("claims.webhooks.pending", () => _counts.Pending, "{delivery}", "Webhook deliveries waiting to be sent or retried.");
        meter.CreateObservableGauge("claims.imports.running", () => _counts.Imports, "{import}", "Import jobs running.");
    }

    private sealed record Counts(long Outbox, long Pending, long Imports);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every);
        do
        {
            try
            {
                await using var connection = await _db.OpenConnectionAsync(stoppingToken);
                _counts = await connection.QuerySingleAsync<Counts>(new CommandDefinition(
                    """
                    SELECT (SELECT count(*) FROM (SELECT 1 FROM event_outbox LIMIT 100000) o) AS outbox,
                           (SELECT count(*) FROM (SELECT 1 FROM webhook_deliveries WHERE status = 'pending' LIMIT 100000) d) AS pending,
                           (SELECT count(*) FROM imports WHERE state = 'running') AS imports
                    """, cancellationToken: stoppingToken));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogWarning(e, "Could not count the backlogs; will try again in {Seconds} s", Every.TotalSeconds);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
