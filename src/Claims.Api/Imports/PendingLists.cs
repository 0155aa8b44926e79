using Dapper;
using Npgsql;

namespace Claims.Api.Imports;

/// <summary>
/// Lets the claims' GIN indexes queue new entries while an import writes, and merges them when it
/// ends. db/0004_search_planning.sql turned their pending lists off so that searches never read a
/// long list; but then every claim inserts its hundred-odd trigrams into the index one page change
/// at a time. Measured on a batch of 1,000 claims: 2.0 s with the lists off, 0.46 s with them on
/// and merged at the end. While an import runs, a search reads at most gin_pending_list_limit
/// (4 MB) of queued entries, since a longer list is merged by the writer that overflows it.
/// </summary>
internal static class PendingLists
{
    private static readonly string[] Indexes = ["claims_statement_trgm_idx", "claims_search_vector_idx"];

    /// <summary>Turns the lists on; false when the indexes were busy (their lock waits on running queries), and the import goes on without.</summary>
    public static async Task<bool> OnAsync(NpgsqlConnection connection, ILogger logger, CancellationToken ct)
    {
        try
        {
            // Changing an index's storage parameter waits for the queries that use it: briefly,
            // or not at all.
            await connection.ExecuteAsync(new CommandDefinition(
                "SET lock_timeout = '2s';"
                + string.Concat(Indexes.Select(i => $"ALTER INDEX {i} SET (fastupdate = on);"))
                + "RESET lock_timeout;", cancellationToken: ct));
            return true;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            await connection.ExecuteAsync(new CommandDefinition("RESET lock_timeout", cancellationToken: ct));
            logger.LogInformation("The claims' indexes were busy; importing without their pending lists");
            return false;
        }
    }

    /// <summary>
    /// Merges the queued entries and turns the lists off again, unless another import is still
    /// running (the last one to end does it; one whose process stopped does not count). Best effort: lists left on only make searches read
    /// their queued entries until the next import ends, or vacuum merges them.
    /// </summary>
    public static async Task OffAsync(NpgsqlDataSource db, Guid jobId, ILogger logger)
    {
        try
        {
            await using var connection = await db.OpenConnectionAsync();
            // SET LOCAL: the settings end with the transaction, also when it fails.
            await using var transaction = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync(new CommandDefinition(
                $"""
                SET LOCAL statement_timeout = 0;
                SET LOCAL lock_timeout = '5s';
                DO $$
                BEGIN
                    IF NOT EXISTS (SELECT FROM imports WHERE state = 'running' AND id <> '{jobId}'
                                   AND updated_at > now() - interval '{(int)ImportRunner.StaleAfter.TotalSeconds} seconds') THEN
                        {string.Concat(Indexes.Select(i => $"PERFORM gin_clean_pending_list('{i}'); ALTER INDEX {i} SET (fastupdate = off);"))}
                    END IF;
                END $$;
                """, transaction: transaction, commandTimeout: 0));
            await transaction.CommitAsync();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            logger.LogWarning(e, "Could not turn the claims' index pending lists off after import {Id}", jobId);
        }
    }
}
