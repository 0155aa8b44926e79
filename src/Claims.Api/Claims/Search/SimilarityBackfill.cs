using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Claims;

/// <summary>
/// Files the claims that have no similarity keys yet (<see cref="SimilarityKeys"/>): every claim of
/// a database that predates them, and rows written without the API. Until a claim is filed, the
/// near-duplicate look-up does not see it. Runs at start and then every minute, in batches, so that
/// it never holds many rows locked; two instances doing it at once write the same keys. Not at all
/// with Claims:FileSimilarity off (<see cref="ClaimsOptions.FileSimilarity"/>).
/// </summary>
public sealed class SimilarityBackfill(NpgsqlDataSource db, IOptions<ClaimsOptions> options, ILogger<SimilarityBackfill> logger) : BackgroundService
{
    // Filing rewrites the claim's row, and with it an entry in each of the claims' indexes (the
    // GIN ones cost most): 2 to 4 ms a claim on two cores, so a batch stays well inside the
    // command timeout.
    private const int Batch = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.FileSimilarity)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1));
        do
        {
            try
            {
                var filed = await FileAllAsync(db, stoppingToken);
                if (filed > 0)
                {
                    logger.LogInformation("Filed {Count} claims for the near-duplicate look-up", filed);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not file claims for the near-duplicate look-up; will try again in a minute");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Files every unfiled claim, a batch at a time; returns how many it filed.</summary>
    public static async Task<long> FileAllAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        long filed = 0;
        await using var connection = await db.OpenConnectionAsync(ct);
        var after = Guid.Empty;
        while (true)
        {
            var batch = (await connection.QueryAsync<(Guid Id, string Statement)>(new CommandDefinition(
                $"SELECT id, statement FROM claims WHERE similarity_keys IS NULL AND id > @after ORDER BY id LIMIT {Batch}",
                new { after }, cancellationToken: ct))).AsList();
            if (batch.Count == 0)
            {
                return filed;
            }

            // A statement changed in between keeps its NULL for the next round.
            var (keys, lengths) = SimilarityKeys.ForMany([.. batch.Select(b => b.Statement)]);
            filed += await connection.ExecuteAsync(new CommandDefinition(
                $"""
                UPDATE claims c SET similarity_keys = {SimilarityKeys.Slice("@keys", "b.n", "b.length")}
                FROM unnest(@ids, @statements, @lengths) WITH ORDINALITY AS b (id, statement, length, n)
                WHERE c.id = b.id AND c.statement = b.statement AND c.similarity_keys IS NULL
                """,
                new { ids = batch.Select(b => b.Id).ToArray(), statements = batch.Select(b => b.Statement).ToArray(), lengths, keys },
                cancellationToken: ct));
            after = batch[^1].Id;
        }
    }
}
