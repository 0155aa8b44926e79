using Claims.Api.Data;
using Claims.Api.Auth;
using Claims.Api.Claims;
using Claims.Api.Http;
using Claims.Api.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Claims.Api.Stats;

/// <summary>What a dashboard shows at a glance.</summary>
public sealed record ClaimStats(IReadOnlyDictionary<string, long> ClaimsByStatus, long Claims, long Sources, long Evidence);

public static class StatsApi
{
    public static RouteHandlerBuilder MapStats(this IEndpointRouteBuilder app) =>
        app.MapGet("/stats", GetStats).WithName(nameof(GetStats)).Allow(Role.Reader).WithTags("Stats")
            .WithSummary("Count claims per status, and all claims, sources and evidence")
            .WithDescription("claimsByStatus lists every status, with 0 where there are none.");

    public static async Task<Ok<ClaimStats>> GetStats(HttpContext http, Reads reads, CancellationToken ct)
    {
        await using var connection = await reads.OpenAsync(http, ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            """
            SELECT status, count(*) AS n FROM claims GROUP BY status;
            SELECT (SELECT count(*) FROM sources), (SELECT count(*) FROM evidence);
            """,
            cancellationToken: ct));
        var counted = (await results.ReadAsync<(string Status, long N)>()).ToDictionary(r => r.Status, r => r.N);
        var (sources, evidence) = await results.ReadSingleAsync<(long, long)>();

        var byStatus = EnumNames<ClaimStatus>.All.ToDictionary(status => status, status => counted.GetValueOrDefault(status));
        return TypedResults.Ok(new ClaimStats(byStatus, byStatus.Values.Sum(), sources, evidence));
    }
}
