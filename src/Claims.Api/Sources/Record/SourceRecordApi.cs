using Claims.Api.Data;
using Claims.Api.Auth;
using Claims.Api.Errors;
using Claims.Api.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Claims.Api.Sources.Record;

/// <summary>GET /sources/{id}/record: what became of the claims a source took a side on.</summary>
public static class SourceRecordApi
{
    // One pass over the source's evidence through its (source_id, stance, claim_id) index, a claim
    // counted once per side, then one key look-up per claim for its status.
    private const string Sql =
        """
        SELECT s.reliability, n.*
        FROM sources s
        CROSS JOIN LATERAL (
            SELECT count(*) FILTER (WHERE x.backed AND c.status = 'confirmed')::int AS backed_confirmed,
                   count(*) FILTER (WHERE x.backed AND c.status = 'false')::int AS backed_false,
                   count(*) FILTER (WHERE x.backed AND c.status = 'disputed')::int AS backed_disputed,
                   count(*) FILTER (WHERE x.backed AND c.status = 'inconclusive')::int AS backed_inconclusive,
                   count(*) FILTER (WHERE x.backed AND c.status IN ('unverified', 'in_review'))::int AS backed_open,
                   count(*) FILTER (WHERE x.refuted AND c.status = 'confirmed')::int AS refuted_confirmed,
                   count(*) FILTER (WHERE x.refuted AND c.status = 'false')::int AS refuted_false,
                   count(*) FILTER (WHERE x.refuted AND c.status = 'disputed')::int AS refuted_disputed,
                   count(*) FILTER (WHERE x.refuted AND c.status = 'inconclusive')::int AS refuted_inconclusive,
                   count(*) FILTER (WHERE x.refuted AND c.status IN ('unverified', 'in_review'))::int AS refuted_open
            FROM (SELECT e.claim_id, bool_or(e.stance IN ('asserts', 'supports')) AS backed, bool_or(e.stance = 'refutes') AS refuted
                  FROM evidence e
                  WHERE e.source_id = s.id AND e.stance IN ('asserts', 'supports', 'refutes')
                  GROUP BY e.claim_id) x
            JOIN claims c ON c.id = x.claim_id) n
        WHERE s.id = @id
        """;

    public static RouteHandlerBuilder MapSourceRecord(this IEndpointRouteBuilder app) =>
        app.MapGet("/sources/{id:guid}/record", GetRecord).WithName(nameof(GetRecord)).WithTags("Sources").Allow(Role.Reader)
            .WithSummary("Read a source's track record")
            .WithDescription("How the claims the source asserted or supported, and those it refuted, ended (each claim once), and the reliability grade that record suggests by the rule given in the answer: a lower confidence bound, so that a short record suggests F (cannot be judged) rather than a grade earned by luck. The suggestion is shown beside the grade a person set; it never changes it.")
            .ProducesProblem(StatusCodes.Status404NotFound);

    public static async Task<Results<Ok<SourceRecord>, ProblemHttpResult>> GetRecord(Guid id, HttpContext http, Reads reads, CancellationToken ct)
    {
        await using var connection = await reads.OpenAsync(http, ct);
        var row = await connection.QuerySingleOrDefaultAsync<SourceRecordRow>(new CommandDefinition(Sql, new { id }, cancellationToken: ct));
        if (row is null)
        {
            return Problems.NotFound("source", id);
        }

        var backed = new RecordCounts(row.BackedConfirmed, row.BackedFalse, row.BackedDisputed, row.BackedInconclusive, row.BackedOpen);
        var refuted = new RecordCounts(row.RefutedConfirmed, row.RefutedFalse, row.RefutedDisputed, row.RefutedInconclusive, row.RefutedOpen);
        var borneOut = backed.Confirmed + refuted.False;
        var contradicted = backed.False + refuted.Confirmed;
        var (bound, suggested) = TrackRecord.Suggest(borneOut, contradicted);
        return TypedResults.Ok(new SourceRecord(
            id, EnumNames<Reliability>.Parse(row.Reliability), backed, refuted, borneOut, contradicted, bound, suggested, TrackRecord.Rule));
    }
}
