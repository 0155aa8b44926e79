using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Api.Validation;
using Dapper;
using DbUp;
using Npgsql;

namespace Claims.Api.Data;

public sealed class DatabaseOptions
{
    /// <summary>Apply the migrations in db/ at start-up.</summary>
    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>Load the seed story at start-up when the database has no claims and no sources. Defaults to on for the private development database only.</summary>
    public bool? SeedWhenEmpty { get; set; }

    /// <summary>How long a read that sent a Consistency-Token waits for the replica to replay it before it goes to the primary.</summary>
    public int ReplicaWaitMilliseconds { get; set; } = 250;

    /// <summary>How far the replica may be behind the primary and still answer reads; further behind, reads go to the primary.</summary>
    public double ReplicaMaxLagSeconds { get; set; } = 10;
}

/// <summary>The database cannot be set up as configured; the message says how to fix it.</summary>
public sealed class DatabaseSetupException(string message, Exception? inner = null) : Exception(message, inner);

public static class Database
{
    public const string ConnectionStringName = "Claims";

    /// <summary>
    /// Registers the one <see cref="NpgsqlDataSource"/>. Without a configured connection string,
    /// Development gets the private PostgreSQL; any other environment refuses to start.
    /// </summary>
    /// <returns>The private server's folder when one was started, else null.</returns>
    public static async Task<string?> AddClaimsDatabaseAsync(this WebApplicationBuilder builder)
    {
        string? privateFolder = null;
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        var usesPrivateServer = string.IsNullOrWhiteSpace(connectionString);
        if (usesPrivateServer)
        {
            if (!builder.Environment.IsDevelopment())
            {
                throw new DatabaseSetupException(
                    $"No database configured: set ConnectionStrings__{ConnectionStringName} (for example " +
                    "\"Host=db;Username=claims;Password=...;Database=claims\"). Only the Development environment starts a private PostgreSQL by itself.");
            }

            string server;
            try
            {
                privateFolder = LocalPostgres.DefaultFolder(builder.Environment.ContentRootPath);
                server = await LocalPostgres.EnsureRunningAsync(privateFolder);
            }
            catch (InvalidOperationException e)
            {
                throw new DatabaseSetupException(e.Message, e);
            }

            connectionString = new NpgsqlConnectionStringBuilder(server) { Database = "claims" }.ConnectionString;
            builder.Configuration[$"ConnectionStrings:{ConnectionStringName}"] = connectionString;
        }

        builder.Services.Configure<DatabaseOptions>(options =>
        {
            builder.Configuration.GetSection("Database").Bind(options);
            options.SeedWhenEmpty ??= usesPrivateServer;
        });
        builder.Services.AddNpgsqlDataSource(WithTimeouts(connectionString!));
        builder.Services.AddSingleton<Reads>();
        builder.Services.AddHostedService<ReplicaWatch>();
        return privateFolder;
    }

    /// <summary>
    /// Bounds every wait on the database unless the connection string says otherwise: connecting
    /// and waiting for a pooled connection (so that a request fails fast with 503 while
    /// PostgreSQL is down), each statement on the server, each command on the client, and giving
    /// up on a command that was cancelled; and turns on automatic preparation.
    /// </summary>
    public static string WithTimeouts(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // The keys the operator wrote are left alone (a plain builder keeps them as written).
        var raw = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        bool Given(params string[] names) => names.Any(raw.ContainsKey);

        // Connecting, and also the longest wait for a pooled connection and the longest Npgsql
        // spends asking a silent server to cancel a command (on a new connection, holding the
        // cancelling thread) before it drops the connection. Added to the request's deadline, that
        // last one is how late a request can answer while the database stalls: 4 + 1 s, measured
        // 5.2 s at worst (at 3 s, with the GSS probe below, 10 s).
        if (!Given("Timeout"))
        {
            builder.Timeout = 1;
        }

        // Npgsql's default (Prefer) first asks every new connection for GSS (Kerberos) encryption
        // and, when that goes unanswered, connects a second time without it: each connect to a
        // silent server, the cancel requests' included, then waited twice the timeout.
        if (!Given("GSS Encryption Mode", "GssEncryptionMode"))
        {
            builder.GssEncryptionMode = GssEncryptionMode.Disable;
        }

        // Requests are bounded by their deadline (RequestDeadline); this bounds work outside
        // requests (seeding, clean-up) the same way.
        if (!Given("Command Timeout", "CommandTimeout"))
        {
            builder.CommandTimeout = (int)RequestDeadline.Timeout.TotalSeconds;
        }

        // After a cancellation reached the server, how long to wait for the cancelled command to
        // end before dropping the connection (default 2 s). A live server answers within
        // milliseconds; a connection that has gone silent is not worth waiting for.
        if (!Given("Cancellation Timeout", "CancellationTimeout"))
        {
            builder.CancellationTimeout = 500;
        }

        if (builder.Options?.Contains("statement_timeout", StringComparison.Ordinal) != true)
        {
            builder.Options = $"{builder.Options} -c statement_timeout=5000".Trim();
        }

        // A request that gave up (its deadline, a broken link) may leave its backend idle inside
        // the transaction until TCP notices, holding row locks and an Idempotency-Key's lock:
        // retries of that key would be 409 meanwhile. The server ends such a transaction itself.
        if (builder.Options?.Contains("idle_in_transaction_session_timeout", StringComparison.Ordinal) != true)
        {
            builder.Options = $"{builder.Options} -c idle_in_transaction_session_timeout=10000".Trim();
        }

        // PostgreSQL on a few cores does best with few connections (the benchmark's pgbench
        // ceiling peaks at 8 to 16 on two cores); more requests than that queue for a pooled
        // connection instead of making the server thrash.
        if (!Given("Maximum Pool Size", "Max Pool Size", "MaxPoolSize"))
        {
            builder.MaxPoolSize = Math.Max(8, Environment.ProcessorCount * 6);
        }

        // Planning the search and status queries costs more than running them; prepared once per
        // pooled connection, they are only executed afterwards.
        if (!Given("Max Auto Prepare", "MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }

        // The app leaves no session state behind (settings are transaction-local, advisory locks
        // transaction-scoped), so a pooled connection needs no reset between requests.
        if (!Given("No Reset On Close", "NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        return builder.ConnectionString;
    }

    /// <summary>
    /// Applies the numbered scripts of db/ that the journal has not recorded, creating the database
    /// first if it does not exist, and returns the names of those it applied. Running it again is
    /// a no-op.
    /// </summary>
    public static IReadOnlyList<string> Migrate(string connectionString, ILogger logger)
    {
        try
        {
            EnsureDatabase.For.PostgresqlDatabase(connectionString, new DbUpLog(logger));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Another instance created it between DbUp's check and its CREATE DATABASE.
        }

        // Two processes starting together must not both apply the same script; the second waits
        // as long as the first takes.
        using var guard = new NpgsqlConnection(connectionString);
        guard.Open();
        guard.Execute("SELECT pg_advisory_lock(727274)", commandTimeout: 0);
        try
        {
            var result = DeployChanges.To
                .PostgresqlDatabase(connectionString)
                .WithScriptsEmbeddedInAssembly(typeof(Database).Assembly, name => name.Contains(".db.", StringComparison.Ordinal))
                .JournalToPostgresqlTable("public", "schema_migrations")
                .WithTransactionPerScript()
                .WithVariablesDisabled()
                .LogTo(logger)
                .Build()
                .PerformUpgrade();
            if (!result.Successful)
            {
                throw new InvalidOperationException($"Migration {result.ErrorScript?.Name} failed: {result.Error.Message}", result.Error);
            }

            return [.. result.Scripts.Select(script => script.Name[(script.Name.IndexOf(".db.", StringComparison.Ordinal) + 4)..])];
        }
        finally
        {
            guard.Execute("SELECT pg_advisory_unlock(727274)");
        }
    }

    private sealed class DbUpLog(ILogger logger) : DbUp.Engine.Output.IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) => logger.LogTrace(format, args);

        public void LogDebug(string format, params object[] args) => logger.LogDebug(format, args);

        public void LogInformation(string format, params object[] args) => logger.LogInformation(format, args);

        public void LogWarning(string format, params object[] args) => logger.LogWarning(format, args);

        public void LogError(string format, params object[] args) => logger.LogError(format, args);

        public void LogError(Exception ex, string format, params object[] args) => logger.LogError(ex, format, args);
    }
}
