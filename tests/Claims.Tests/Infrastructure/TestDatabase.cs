using System.Security.Cryptography;
using Claims.Api.Data;
using Claims.Api.Validation;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Claims.Tests.Infrastructure;

/// <summary>
/// Gives each test class its own database, copied from a migrated template. The server is the one
/// CLAIMS_TEST_CONNECTION names, or else the private instance that `dotnet run` uses.
/// </summary>
public static class TestDatabase
{
    public const string ConnectionVariable = "CLAIMS_TEST_CONNECTION";

    private static readonly Lazy<Task<string>> Server = new(FindServerAsync);
    private static readonly Lazy<Task<string>> Template = new(CreateTemplateAsync);

    public static async Task<string> CreateAsync()
    {
        var template = await Template.Value;
        var server = await Server.Value;
        var name = $"claims_test_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name} TEMPLATE {template}", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    /// <summary>A connection string for a database that does not exist yet, on the tests' server; DropAsync drops it.</summary>
    public static async Task<string> UnusedAsync() =>
        new NpgsqlConnectionStringBuilder(await Server.Value) { Database = $"claims_test_{Guid.NewGuid():N}" }.ConnectionString;

    public static async Task DropAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(await Server.Value);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// A count (or any bigint) read straight from a test's database, for what the API does not
    /// show: rows a refused write must not have left, stored idempotency keys. @value is bound.
    /// </summary>
    public static async Task<long> ScalarAsync(string connectionString, string sql, object? value = null)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        if (value is not null)
        {
            command.Parameters.AddWithValue("value", value);
        }

        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<string> FindServerAsync()
    {
        if (Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } configured)
        {
            return configured;
        }

        try
        {
            return await LocalPostgres.EnsureRunningAsync(LocalPostgres.DefaultFolder(AppContext.BaseDirectory));
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                $"The tests need PostgreSQL and could not start a private one: {e.Message}{Environment.NewLine}" +
                $"Fix: install Debian's postgresql package (apt-get install postgresql), or set {ConnectionVariable} to a server " +
                "where the user may create databases, e.g. \"Host=127.0.0.1;Username=postgres;Password=...;Database=postgres\".", e);
        }
    }

    /// <summary>
    /// The template is named after a hash of the migration scripts, so it is built once per schema
    /// and reused by later runs; a changed script makes a new one.
    /// </summary>
    private static async Task<string> CreateTemplateAsync()
    {
        var server = await Server.Value;
        var name = $"claims_test_template_{SchemaHash()}";
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(727275)", connection))
        {
            await lockCommand.ExecuteNonQueryAsync();
        }

        try
        {
            await using var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = @name)", connection);
            exists.Parameters.AddWithValue("name", name);
            if ((bool)(await exists.ExecuteScalarAsync())!)
            {
                return name;
            }

            // Built under another name and renamed when complete, so a run that dies half-way
            // never leaves a template that looks finished.
            var building = name + "_building";
            await using (var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {building} WITH (FORCE)", connection))
            {
                await drop.ExecuteNonQueryAsync();
            }

            var buildingConnection = new NpgsqlConnectionStringBuilder(server) { Database = building, Pooling = false }.ConnectionString;
            Database.Migrate(buildingConnection, NullLogger.Instance);
            await using (var rename = new NpgsqlCommand($"ALTER DATABASE {building} RENAME TO {name}", connection))
            {
                await rename.ExecuteNonQueryAsync();
            }

            return name;
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(727275)", connection);
            await unlock.ExecuteNonQueryAsync();
        }
    }

    private static string SchemaHash()
    {
        var assembly = typeof(Database).Assembly;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.Contains(".db.", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(resource + "\n" + reader.ReadToEnd()));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..12];
    }
}
