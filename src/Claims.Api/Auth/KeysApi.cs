using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Claims.Api.Data;
using Claims.Api.Errors;
using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Api.Validation;
using Dapper;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Claims.Api.Auth;

/// <summary>An API key as listed: never its secret, never its hash.</summary>
public sealed record ApiKey(Guid Id, [property: MaxLength(100)] string Name, Role Role, DateTime CreatedAt, DateTime? RevokedAt);

/// <summary>A new key, with the secret that is shown this once.</summary>
public sealed record CreatedApiKey(
    Guid Id, [property: MaxLength(100)] string Name, Role Role, DateTime CreatedAt,
    [property: Description("The secret to send in X-Api-Key. It is not stored and cannot be shown again."), MaxLength(100)] string Key);

public sealed record ApiKeyRequest(
    [property: Description("Who or what uses the key; recorded as the author of its writes. 1 to 100 characters."), Required, MaxLength(100)] string? Name,
    [property: Description("What the key may do."), Required] Role? Role);

public sealed class ApiKeyRequestValidator : AbstractValidator<ApiKeyRequest>
{
    public ApiKeyRequestValidator()
    {
        RuleFor(r => r.Name).RequiredText(100);
        RuleFor(r => r.Role).RequiredEnum();
    }
}

internal sealed record ApiKeyRow(Guid Id, string Name, string Role, DateTime CreatedAt, DateTime? RevokedAt)
{
    public ApiKey ToKey() => new(Id, Name, Enum.Parse<Role>(Role, ignoreCase: true), CreatedAt, RevokedAt);
}

public static class KeysApi
{
    public static RouteGroupBuilder MapKeys(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/admin/keys").WithTags("Admin");

        group.MapPost("/", CreateKey).WithName(nameof(CreateKey)).Allow(Role.Admin)
            .WithSummary("Mint an API key")
            .WithDescription("The answer carries the secret once; only its SHA-256 hash is stored.");
        group.MapGet("/", ListKeys).WithName(nameof(ListKeys)).Allow(Role.Admin)
            .WithSummary("List API keys, newest first (never their secrets)");
        group.MapDelete("/{id:guid}", RevokeKey).WithName(nameof(RevokeKey)).Allow(Role.Admin)
            .WithSummary("Revoke an API key at once")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    public static async Task<Created<CreatedApiKey>> CreateKey(ApiKeyRequest request, NpgsqlDataSource db, CancellationToken ct)
    {
        var created = await CreateAsync(db, request.Name!.Trim(), request.Role!.Value, ct);
        return TypedResults.Created($"/admin/keys/{created.Id}", created);
    }

    public static async Task<CreatedApiKey> CreateAsync(NpgsqlDataSource db, string name, Role role, CancellationToken ct)
    {
        var secret = ApiKeyStore.NewSecret();
        await using var connection = await db.OpenConnectionAsync(ct);
        // A transaction of one statement, so that only its COMMIT can leave the outcome unknown (504).
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        var row = await connection.QuerySingleAsync<ApiKeyRow>(new CommandDefinition(
            """
            INSERT INTO api_keys (id, name, role, hash) VALUES (@id, @name, @role, @hash)
            RETURNING id, name, role, created_at, revoked_at
            """,
            new { id = Guid.CreateVersion7(), name, role = role.ToString().ToLowerInvariant(), hash = ApiKeyStore.Hash(secret) },
            transaction, cancellationToken: ct));
        await commit.RunAsync();
        return new CreatedApiKey(row.Id, row.Name, role, row.CreatedAt, secret);
    }

    public static async Task<Results<Ok<Page<ApiKey>>, ValidationProblem>> ListKeys(
        [AsParameters] PageRequest page, NpgsqlDataSource db, CursorProtector cursors, CancellationToken ct)
    {
        const string scope = "keys";
        if (!cursors.TryDecode<TimeKey>(page.Cursor, scope, out var after))
        {
            return PageExtensions.BadCursor();
        }

        var rows = await db.NewestFirstAsync<ApiKeyRow>("SELECT id, name, role, created_at, revoked_at FROM api_keys", after, page.Size, ct);
        return TypedResults.Ok(rows.ToPage(page.Size, r => r.ToKey(), r => new TimeKey(r.CreatedAt, r.Id), cursors, scope));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeKey(Guid id, NpgsqlDataSource db, ApiKeyStore keys, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var commit = Commit.For(transaction, ct);
        var hash = await connection.QuerySingleOrDefaultAsync<byte[]>(new CommandDefinition(
            "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = @id RETURNING hash", new { id }, transaction, cancellationToken: ct));
        if (hash is null)
        {
            return Problems.NotFound("API key", id);
        }

        await commit.RunAsync();
        keys.Forget(hash);
        return TypedResults.NoContent();
    }
}
