using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Claims.Api.Errors;
using Claims.Api.Validation;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Http;

/// <summary>
/// Idempotency-Key (draft-ietf-httpapi-idempotency-key-header) for the creating POSTs. The first
/// response to a key is stored in the transaction of the write itself, so a retry either finds it
/// and replays it, or finds nothing because nothing was written. A transaction-scoped advisory
/// lock on the key tells a retry that the first request is still running.
/// </summary>
public sealed class Idempotency(IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
{
    public const string Header = "Idempotency-Key";
    public const int MaxKeyLength = 255;

    /// <summary>What to do with a request that carries a key.</summary>
    public abstract record Check
    {
        public sealed record Proceed : Check;
        public sealed record Replay(int StatusCode, string? Location, string Body) : Check;
        public sealed record InFlight : Check;
        public sealed record Mismatch : Check;
    }

    /// <summary>The key of this request, bound to its caller and its content; null without the header.</summary>
    public sealed record Key(string Owner, string Value, byte[] RequestHash);

    public JsonSerializerOptions SerializerOptions => json.Value.SerializerOptions;

    /// <summary>Reads the header. A malformed one is reported as a problem rather than ignored.</summary>
    public Key? Read(HttpContext http, object request, out ProblemHttpResult? problem)
    {
        problem = null;
        if (!http.Request.Headers.TryGetValue(Header, out var values) || values.Count == 0)
        {
            return null;
        }

        // A structured-field string: quoted, though a bare token is accepted too.
        var value = values.Count == 1 ? values[0]!.Trim() : "";
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            value = value[1..^1];
        }

        if (value.Length is 0 or > MaxKeyLength || value.Any(char.IsControl))
        {
            problem = ProblemTypes.InvalidIdempotencyKey.Result(
                $"Send one key of 1 to {MaxKeyLength} printable characters, such as \"{Guid.NewGuid()}\".");
            return null;
        }

        var content = $"{http.Request.Method} {http.Request.Path}\n{JsonSerializer.Serialize(request, request.GetType(), SerializerOptions)}";
        return new Key(Caller.KeyId(http.User) ?? "anonymous", value, SHA256.HashData(Encoding.UTF8.GetBytes(content)));
    }

    /// <summary>
    /// In the write's transaction: a problem to answer instead (the key is in use by a running
    /// request, or was used for another request), a stored answer to replay, or neither: go on.
    /// </summary>
    public static async Task<(ProblemHttpResult? Refusal, Check.Replay? Replay)> GuardAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Key? key, CancellationToken ct) =>
        key is null ? (null, null) : await BeginAsync(connection, transaction, key, ct) switch
        {
            Check.InFlight => (InFlightProblem(), null),
            Check.Mismatch => (MismatchProblem(), null),
            Check.Replay replay => (null, replay),
            _ => (null, null),
        };

    private static async Task<Check> BeginAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Key key, CancellationToken ct)
    {
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            """
            SELECT pg_try_advisory_xact_lock(hashtextextended(@Owner || ':' || @Value, 7274));
            SELECT request_hash, status_code, location, response_body FROM idempotency_keys WHERE owner = @Owner AND key = @Value;
            """,
            new { key.Owner, key.Value }, transaction, cancellationToken: ct));
        if (!await results.ReadSingleAsync<bool>())
        {
            return new Check.InFlight();
        }

        var stored = await results.ReadSingleOrDefaultAsync<(byte[] RequestHash, short StatusCode, string? Location, string ResponseBody)?>();
        return stored switch
        {
            null => new Check.Proceed(),
            { } s when !CryptographicOperations.FixedTimeEquals(s.RequestHash, key.RequestHash) => new Check.Mismatch(),
            { } s => new Check.Replay(s.StatusCode, s.Location, s.ResponseBody),
        };
    }

    /// <summary>Stores the response in the write's own transaction.</summary>
    public async Task CompleteAsync<T>(NpgsqlConnection connection, NpgsqlTransaction transaction, Key? key, int statusCode, string? location, T body, CancellationToken ct)
    {
        if (key is null)
        {
            return;
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO idempotency_keys (owner, key, request_hash, status_code, location, response_body)
            VALUES (@Owner, @Value, @RequestHash, @statusCode, @location, @body)
            """,
            new { key.Owner, key.Value, key.RequestHash, statusCode = (short)statusCode, location, body = JsonSerializer.Serialize(body, SerializerOptions) },
            transaction, cancellationToken: ct));
    }

    public const string ReplayedHeader = "Idempotent-Replayed";

    /// <summary>The first answer to replay, its body as stored; the header tells the client it is a replay, not a new write.</summary>
    public T Replayed<T>(HttpContext http, Check.Replay replay)
    {
        http.Response.Headers[ReplayedHeader] = "true";
        return JsonSerializer.Deserialize<T>(replay.Body, SerializerOptions)!;
    }

    public static ProblemHttpResult InFlightProblem() =>
        ProblemTypes.IdempotencyKeyInFlight.Result("Wait for it to finish, then retry with the same key to get its response.");

    public static ProblemHttpResult MismatchProblem() =>
        ProblemTypes.IdempotencyKeyReused.Result("A key stands for one request: the same method, path and body. Use a new key for a new request.");
}

/// <summary>Deletes stored responses once they are two days old; the draft asks for at least a day.</summary>
public sealed class IdempotencyCleanup(NpgsqlDataSource db, ILogger<IdempotencyCleanup> logger) : BackgroundService
{
    public static readonly TimeSpan KeepFor = TimeSpan.FromHours(48);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1));
        do
        {
            try
            {
                await PurgeAsync(db, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not purge old idempotency keys; will try again in an hour");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public static async Task<int> PurgeAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM idempotency_keys WHERE created_at < now() - @keepFor", new { keepFor = KeepFor }, cancellationToken: ct));
    }
}
