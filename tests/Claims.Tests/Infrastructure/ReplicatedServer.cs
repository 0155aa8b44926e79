using System.Diagnostics;
using Claims.Api.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace Claims.Tests.Infrastructure;

/// <summary>
/// A private PostgreSQL of the class's own and a streaming replica of it (pg_basebackup -R into a
/// second folder, started on a port of its own), and the app with ConnectionStrings:ClaimsReplica
/// naming the replica. The class may pause the replica's replay, or stop and start it, without
/// disturbing any other.
/// </summary>
public sealed class ReplicatedServer : IAsyncLifetime
{
    private readonly string _replicaFolder = Path.Combine(Path.GetTempPath(), "claims-replica-" + Guid.NewGuid().ToString("N"));
    private PrivateServer? _primary;
    private WebApplicationFactory<Program>? _app;

    public string AdminKey { get; } = "replica-admin-" + Guid.NewGuid().ToString("N");

    public string PrimaryConnectionString => _primary!.ConnectionString;

    public string ReplicaConnectionString { get; private set; } = "";

    /// <summary>The app reading from the replica, with the given settings besides.</summary>
    public WebApplicationFactory<Program> App => _app!;

    public async Task InitializeAsync()
    {
        _primary = await PrivateServer.StartAsync("claims");
        ReplicaConnectionString = new NpgsqlConnectionStringBuilder(await LocalPostgres.EnsureStandbyRunningAsync(_primary.ConnectionString, _replicaFolder))
        {
            Database = "claims",
        }.ConnectionString;
        _app = With();
        using var client = Client(_app);
        await WaitUntilReadsReachTheReplicaAsync(client);
    }

    /// <summary>Another app on the same two servers, with settings of its own.</summary>
    public WebApplicationFactory<Program> With(params (string Key, string Value)[] settings) => new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:Claims", _primary!.ConnectionString);
        builder.UseSetting("ConnectionStrings:ClaimsReplica", ReplicaConnectionString);
        builder.UseSetting("Database:MigrateOnStartup", "false");
        builder.UseSetting("Database:SeedWhenEmpty", "false");
        builder.UseSetting("Auth:BootstrapAdminKey", AdminKey);
        builder.UseSetting("RateLimiting:RequestsPerMinute", "0");
        builder.UseSetting("RateLimiting:WritesPerMinute", "0");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    });

    public HttpClient Client(WebApplicationFactory<Program> app)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return client;
    }

    /// <summary>
    /// Whether reads without a token reach the replica: with its replay paused, a claim written
    /// then is missing from a read that the replica answers. (Not /metrics: in a test process
    /// every app listens to the others' meters of the same name.)
    /// </summary>
    public async Task<bool> ReadsReachTheReplicaAsync(HttpClient client)
    {
        await PauseReplayAsync();
        try
        {
            var claim = await client.ClaimAsync("A probe of the replica.");
            return (await client.GetAsync($"/claims/{claim}")).StatusCode == System.Net.HttpStatusCode.NotFound;
        }
        finally
        {
            await ResumeReplayAsync();
        }
    }

    /// <summary>Probes until a read reaches the replica (the app looks at it every 50 ms, every second while it is lost); fails after 15 s.</summary>
    public async Task WaitUntilReadsReachTheReplicaAsync(HttpClient client)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (await ReadsReachTheReplicaAsync(client))
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException("No read reached the replica within 15 s.");
    }

    /// <summary>Stops applying the primary's changes: the replica keeps answering, with the past.</summary>
    public Task PauseReplayAsync() => OnReplicaAsync("SELECT pg_wal_replay_pause()");

    public Task ResumeReplayAsync() => OnReplicaAsync("SELECT pg_wal_replay_resume()");

    public Task StopReplicaAsync() => LocalPostgres.StopAsync(_replicaFolder);

    public Task StartReplicaAsync() => LocalPostgres.EnsureStandbyRunningAsync(_primary!.ConnectionString, _replicaFolder);

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        try
        {
            await LocalPostgres.StopAsync(_replicaFolder);
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        using (var remove = Process.Start(new ProcessStartInfo("rm", ["-rf", LocalPostgres.DataFolder(_replicaFolder), _replicaFolder, _replicaFolder + ".location"]) { UseShellExecute = false }))
        {
            remove?.WaitForExit(TimeSpan.FromSeconds(30));
        }

        if (_primary is not null)
        {
            await _primary.DisposeAsync();
        }
    }

    private async Task OnReplicaAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ReplicaConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
