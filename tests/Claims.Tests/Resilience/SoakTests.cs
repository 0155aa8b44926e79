using Claims.Hostile;
using Claims.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Claims.Tests;

/// <summary>
/// The CI-sized fault soak (the benchmark program's `soak` verb runs it for minutes): writers with
/// and without an Idempotency-Key while the API is killed outright and PostgreSQL is restarted,
/// then every acknowledged claim is stored, nothing answered 503 is, and no key made two claims.
/// </summary>
[Collection(TimeBound.Name)]
public sealed class SoakTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _adminKey = "soak-admin-" + Guid.NewGuid().ToString("N");
    private PrivateServer? _server;
    private ApiHost? _api;

    public async Task InitializeAsync()
    {
        _server = await PrivateServer.StartAsync("claims_soak");
        var settings = ApiHost.Settings(_server.ConnectionString, _adminKey);
        settings["Database__MigrateOnStartup"] = "false";
        settings["Logging__LogLevel__Default"] = "Warning";
        _api = new ApiHost(Path.Combine(AppContext.BaseDirectory, "Claims.Api.dll"), settings);
        await _api.StartAsync(TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        _api?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task AcknowledgedWritesAndStoredRowsMatchAfterTheApiIsKilledAndPostgresRestarted()
    {
        var api = _api!;
        var server = _server!;
        var soak = new FaultSoak(api.BaseAddress, _adminKey, server.ConnectionString);
        Fault[] faults =
        [
            Fault.KillApi(api, TimeSpan.FromSeconds(5)),
            Fault.RestartDatabase(server.StopAsync, server.StartAgainAsync, down: TimeSpan.FromSeconds(1), every: TimeSpan.FromSeconds(4)),
        ];

        var report = await soak.RunAsync(TimeSpan.FromSeconds(20), writersWithKey: 2, writersWithoutKey: 2, faults);

        output.WriteLine(report.ToString());
        Assert.True(report.Holds, report.ToString());
        Assert.True(faults.All(f => report.Faults.GetValueOrDefault(f.Name) >= 2), $"Each fault should have struck at least twice: {report}");
        Assert.True(report.Acknowledged >= 20, $"Too few writes got through for the check to mean much: {report}");
        Assert.True(report.Answers.ContainsKey("no answer") && report.Answers.ContainsKey("503"),
            $"The faults never showed, as lost answers and as 503s: {report}");
    }
}
