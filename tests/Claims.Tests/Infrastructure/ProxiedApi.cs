using System.Diagnostics;
using Npgsql;

namespace Claims.Tests.Infrastructure;

/// <summary>
/// The app on a database of its own that it reaches only through a <see cref="FaultyProxy"/>,
/// while the test reads and locks that database directly.
/// </summary>
public sealed class ProxiedApi : IAsyncDisposable
{
    private readonly ApiFactory _factory;

    private ProxiedApi(ApiFactory factory, FaultyProxy proxy)
    {
        _factory = factory;
        Proxy = proxy;
    }

    public FaultyProxy Proxy { get; }

    public string AdminKey => _factory.AdminKey;

    /// <summary>The database itself, not through the proxy.</summary>
    public string DirectConnectionString => _factory.ConnectionString;

    /// <param name="maxPoolSize">The app's pool: large enough, a test can hold every request it sends inside the database.</param>
    public static async Task<ProxiedApi> StartAsync(int maxPoolSize)
    {
        var factory = new ApiFactory();
        FaultyProxy? proxy = null;
        try
        {
            await factory.InitializeAsync();
            var direct = new NpgsqlConnectionStringBuilder(factory.ConnectionString);
            proxy = new FaultyProxy(direct.Host!, direct.Port);
            factory.Settings["ConnectionStrings:Claims"] =
                new NpgsqlConnectionStringBuilder(proxy.Route(factory.ConnectionString)) { MaxPoolSize = maxPoolSize }.ConnectionString;
            factory.Settings["Database:MigrateOnStartup"] = "false";
            return new ProxiedApi(factory, proxy);
        }
        catch
        {
            await ((IAsyncLifetime)factory).DisposeAsync();
            if (proxy is not null)
            {
                await proxy.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>A client with the admin key that sends exactly what the test gives it (no If-Match of its own).</summary>
    public HttpClient CreateClient()
    {
        var client = _factory.CreateClient(_factory.AdminKey, sendCurrentETag: false);
        client.Timeout = Timeout.InfiniteTimeSpan;
        return client;
    }

    /// <summary>
    /// Holds every table a request of the API touches in ACCESS EXCLUSIVE mode until disposed, so
    /// that requests sent meanwhile wait inside the database with their connection open.
    /// </summary>
    public Task<TableLock> LockTablesAsync() =>
        TableLock.TakeAsync(DirectConnectionString, "claims", "sources", "evidence", "claim_status_changes", "idempotency_keys");

    /// <summary>Holds a session advisory lock on a connection of the test's own until disposed.</summary>
    public async Task<IAsyncDisposable> HoldAdvisoryLockAsync(long key)
    {
        // Unpooled: closing it ends the session, and the lock with it.
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(DirectConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var take = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection);
        take.Parameters.AddWithValue("key", key);
        await take.ExecuteNonQueryAsync();
        return connection;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(DirectConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Waits (at most 15 s) until this many of the app's statements wait for a lock (only
    /// statements with this text, when given).
    /// </summary>
    public async Task WaitForLockWaitsAsync(int count, string? statement = null)
    {
        var waited = Stopwatch.StartNew();
        long waiting = 0;
        while (waited.Elapsed < TimeSpan.FromSeconds(15))
        {
            waiting = await ScalarAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND (@statement = '' OR query = @statement)",
                new { statement = statement ?? "" });
            if (waiting >= count)
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"Only {waiting} of {count} requests reached the database within 15 s.");
    }

    /// <summary>
    /// Waits (at most 20 s) until none of the app's connections is in a transaction or running a
    /// statement, so that whatever was held up in the proxy has been delivered and has ended.
    /// </summary>
    public async Task WaitUntilSettledAsync()
    {
        var waited = Stopwatch.StartNew();
        long busy = 0;
        while (waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            busy = await ScalarAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'");
            if (busy == 0)
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"{busy} of the app's connections were still busy 20 s after the proxy passed again.");
    }

    public async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(DirectConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var property in parameters?.GetType().GetProperties() ?? [])
        {
            command.Parameters.AddWithValue(property.Name, property.GetValue(parameters)!);
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        // The app first, while the proxy still carries its goodbyes; the database last.
        Proxy.Pass();
        await ((IAsyncLifetime)_factory).DisposeAsync();
        await Proxy.DisposeAsync();
    }
}
