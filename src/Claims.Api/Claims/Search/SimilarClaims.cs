using System.Globalization;
using Claims.Api.Data;
using Dapper;
using Npgsql;

namespace Claims.Api.Claims;

/// <summary>
/// The near-duplicate look-up, the one place that knows how it is done: GET /claims/similar and
/// POST /claims with checkDuplicates both ask it, so they always agree on what a duplicate is.
/// </summary>
public static class SimilarClaims
{
    /// <summary>
    /// Claims whose statement is at least <paramref name="minScore"/> similar to
    /// <paramref name="text"/>, best first, at most <paramref name="limit"/>: one round trip.
    /// Inside <paramref name="transaction"/> when one is given (a write checking before it
    /// inserts), else in a transaction of its own that it rolls back.
    /// </summary>
    public static async Task<IReadOnlyList<SimilarClaim>> FindAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string text, double minScore, int limit, CancellationToken ct)
    {
        if (transaction is not null)
        {
            return await QueryAsync(connection, transaction, text, minScore, limit, ct);
        }

        await using var own = await connection.BeginTransactionAsync(ct);
        // Never committed: ends with a rollback, sent under the request's token.
        await using var end = Commit.For(own, ct);
        return await QueryAsync(connection, own, text, minScore, limit, ct);
    }

    private static async Task<IReadOnlyList<SimilarClaim>> QueryAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string text, double minScore, int limit, CancellationToken ct)
    {
        // The % operator and the <-> order are what the trigram index serves: it reads claims
        // nearest first and stops at the limit. The threshold is a setting, made local to the
        // transaction so that pooled connections keep the default.
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            $"""
            SELECT set_config('pg_trgm.similarity_threshold', @threshold, true);
            SELECT {ClaimsApi.QualifiedColumns("c")}, similarity(c.statement, @text)::real AS rank
            FROM claims c
            WHERE lower(c.statement) % lower(@text)
            ORDER BY lower(c.statement) <-> lower(@text)
            LIMIT @limit;
            """,
            new { text, threshold = minScore.ToString(CultureInfo.InvariantCulture), limit },
            transaction, cancellationToken: ct));
        await results.ReadAsync<string>();
        var rows = await results.ReadAsync<RankedClaimRow>();
        return [.. rows.Select(r => new SimilarClaim(Math.Round(r.Rank, 4), r.ToClaim()))];
    }
}
