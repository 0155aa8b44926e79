using System.Diagnostics;
using Claims.Api.Data;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Claims.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of a test class's own, in a folder of its own, with one migrated database:
/// the class may stop and restart it without disturbing any other.
/// </summary>
public sealed class PrivateServer : IAsyncDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "claims-private-" + Guid.NewGuid().ToString("N"));

    /// <summary>The migrated database, for the app (pooled).</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>The same database without pooling, for a test's own checks, which must not keep connections the app's outage would break.</summary>
    public string Unpooled => new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString;

    public static async Task<PrivateServer> StartAsync(string database)
    {
        var server = new PrivateServer();
        var address = await LocalPostgres.EnsureRunningAsync(server._folder);
        Database.Migrate(new NpgsqlConnectionStringBuilder(address) { Database = database, Pooling = false }.ConnectionString, NullLogger.Instance);
        server.ConnectionString = new NpgsqlConnectionStringBuilder(address) { Database = database }.ConnectionString;
        return server;
    }

    public Task StopAsync() => LocalPostgres.StopAsync(_folder);

    /// <summary>Starts it again with the same data; returns its address, which keeps its port.</summary>
    public Task<string> StartAgainAsync() => LocalPostgres.EnsureRunningAsync(_folder);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await LocalPostgres.StopAsync(_folder);
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        // The data folder belongs to the postgres user; root may delete it, and rm -rf is the fallback.
        try
        {
            if (Directory.Exists(_folder))
            {
                Directory.Delete(_folder, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            using var remove = Process.Start(new ProcessStartInfo("rm", ["-rf", _folder]) { UseShellExecute = false });
            remove?.WaitForExit(TimeSpan.FromSeconds(30));
        }
    }
}
