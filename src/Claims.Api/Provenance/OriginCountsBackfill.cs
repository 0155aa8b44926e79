using Dapper;
using Npgsql;

namespace Claims.Api.Provenance;

/// <summary>
/// Counts the origins of the claims whose counts are not kept yet (claims.origin_counts NULL):
/// every claim of a database that predates them, and rows written without the API. Until then the
/// status look-up counts them on each read. Runs at start and then every minute, in batches, so
/// that it never holds many rows locked; two instances doing it at once write the same counts.
/// </summary>
public sealed class OriginCountsBackfill(NpgsqlDataSource db, ILogger<OriginCountsBackfill> logger) : BackgroundService
{
    // Each claim's row is rewritten, with an entry in each of the claims' indexes: a batch stays
    // well inside the command timeout.
    private const int Batch = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1));
        do
        {
            try
            {
                var counted = await CountAllAsync(db, stoppingToken);
                if (counted > 0)
                {
                    logger.LogInformation("Counted the origins of {Count} claims", counted);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not count the origins of claims; will try again in a minute");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Counts every uncounted claim, a batch at a time; returns how many it counted.</summary>
    public static async Task<long> CountAllAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        long counted = 0;
        await using var connection = await db.OpenConnectionAsync(ct);
        var after = Guid.Empty;
        while (true)
        {
            // Each batch in a transaction of its own, under the counting lock, so that a relation
            // changed meanwhile is either counted here or recounts these claims after.
            await using var transaction = await connection.BeginTransactionAsync(ct);
            var ids = (await connection.QueryAsync<Guid>(new CommandDefinition(
                $"SELECT id FROM claims WHERE origin_counts IS NULL AND id > @after ORDER BY id LIMIT {Batch}",
                new { after }, transaction, cancellationToken: ct))).AsList();
            if (ids.Count == 0)
            {
                return counted;
            }

            counted += await connection.ExecuteAsync(new CommandDefinition(
                $"{Origins.CountingLock} UPDATE claims c SET origin_counts = {Origins.CountsOf("c.id")} WHERE c.id = ANY(@ids) AND c.origin_counts IS NULL",
                new { ids = ids.ToArray() }, transaction, cancellationToken: ct));
            await transaction.CommitAsync(ct);
            after = ids[^1];
        }
    }
}
