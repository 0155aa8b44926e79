using System.Diagnostics;
using Npgsql;

namespace Claims.Tests.Infrastructure;

/// <summary>
/// Holds an ACCESS EXCLUSIVE lock on one table, in a transaction of its own, until disposed. Any
/// statement the API runs on that table meanwhile waits for it, so a request answered while the
/// lock is held did not touch the table: PostgreSQL itself shows what the API did not ask it.
/// </summary>
public sealed class TableLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly string _table;

    private TableLock(NpgsqlConnection connection, NpgsqlTransaction transaction, string table)
    {
        _connection = connection;
        _transaction = transaction;
        _table = table;
    }

    public static async Task<TableLock> TakeAsync(string connectionString, string table)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand($"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE", connection, transaction);
        await command.ExecuteNonQueryAsync();
        return new TableLock(connection, transaction, table);
    }

    /// <summary>Waits until some session waits for this lock; fails after <paramref name="within"/>.</summary>
    public async Task WaitUntilSomeoneWaitsAsync(TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            await using var command = new NpgsqlCommand(
                """
                SELECT count(*) FROM pg_locks
                WHERE NOT granted AND relation = @table::regclass
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """,
                _connection, _transaction);
            command.Parameters.AddWithValue("table", _table);
            if ((long)(await command.ExecuteScalarAsync())! > 0)
            {
                return;
            }

            Assert.True(clock.Elapsed < within, $"Nobody waited for the lock on {_table} within {within.TotalSeconds:0} s.");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _transaction.RollbackAsync();
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
