using System.Diagnostics;
using Npgsql;

namespace Claims.Tests.Infrastructure;

/// <summary>
/// Holds an ACCESS EXCLUSIVE lock on tables, in a transaction of its own, until disposed. Any
/// statement the API runs on them meanwhile waits for it: a request answered while the lock is
/// held did not touch them (PostgreSQL itself shows what the API did not ask it), and a request
/// that needs them is held in flight for as long as a test wants.
/// </summary>
public sealed class TableLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly string[] _tables;

    private TableLock(NpgsqlConnection connection, NpgsqlTransaction transaction, string[] tables)
    {
        _connection = connection;
        _transaction = transaction;
        _tables = tables;
    }

    public static async Task<TableLock> TakeAsync(string connectionString, params string[] tables)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand($"LOCK TABLE {string.Join(", ", tables)} IN ACCESS EXCLUSIVE MODE", connection, transaction);
        await command.ExecuteNonQueryAsync();
        return new TableLock(connection, transaction, tables);
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
                WHERE NOT granted AND relation = ANY(@tables::regclass[])
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """,
                _connection, _transaction);
            command.Parameters.AddWithValue("tables", _tables);
            if ((long)(await command.ExecuteScalarAsync())! > 0)
            {
                return;
            }

            Assert.True(clock.Elapsed < within, $"Nobody waited for the lock on {string.Join(", ", _tables)} within {within.TotalSeconds:0} s.");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Waits until at least <paramref name="sessions"/> sessions of this database that run a
    /// statement beginning with <paramref name="tag"/> wait for a lock; fails after <paramref name="within"/>.
    /// </summary>
    public async Task WaitUntilBlockedAsync(int sessions, string tag, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (await BlockedAsync(tag) < sessions)
        {
            Assert.True(clock.Elapsed < within, $"Fewer than {sessions} sessions waited behind the lock on {string.Join(", ", _tables)} within {within.TotalSeconds:0} s.");
            await Task.Delay(50);
        }
    }

    /// <summary>How many sessions of this database that run a statement beginning with <paramref name="tag"/> wait for a lock now.</summary>
    public async Task<long> BlockedAsync(string tag)
    {
        // The activity view is read once per transaction and kept until it ends, and this one
        // lasts as long as the lock: clear that copy, or every call would see the first.
        await using (var clear = new NpgsqlCommand("SELECT pg_stat_clear_snapshot()", _connection, _transaction))
        {
            await clear.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND starts_with(query, @tag)",
            _connection, _transaction);
        command.Parameters.AddWithValue("tag", tag);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        await _transaction.RollbackAsync();
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
