using System.Buffers.Binary;
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using Claims.Api.Errors;
using Dapper;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Http;

/// <summary>A page of any kind, for what is the same on every list (the Link header).</summary>
public interface IPage
{
    string? NextCursor { get; }
}

/// <summary>One page of a list. <c>nextCursor</c> is null on the last page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor) : IPage;

public static class NextLinks
{
    /// <summary>
    /// Every list answers <c>Link: &lt;next page&gt;; rel="next"</c> while there is one: this
    /// request's own URL, filters and all, with the cursor of the next page, so that a client
    /// follows links instead of building URLs.
    /// </summary>
    public static TBuilder WithNextLinks<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (invocation, next) =>
        {
            var answer = await next(invocation);
            var result = answer;
            while (result is INestedHttpResult nested)
            {
                result = nested.Result;
            }

            if (result is IValueHttpResult { Value: IPage { NextCursor: { } cursor } })
            {
                var request = invocation.HttpContext.Request;
                var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(request.QueryString.Value);
                query["cursor"] = cursor;
                var url = Microsoft.AspNetCore.Http.Extensions.UriHelper.BuildAbsolute(
                    request.Scheme, request.Host, request.PathBase, request.Path, QueryString.Create(query));
                invocation.HttpContext.Response.Headers.Append(Microsoft.Net.Http.Headers.HeaderNames.Link, $"<{url}>; rel=\"next\"");
            }

            return answer;
        });
}

/// <summary>Query parameters shared by every list.</summary>
public sealed record PageRequest(
    [property: Description("Page size, 1 to 200. Default 50."), Range(1, 200)][FromQuery(Name = "limit")] int? Limit,
    [property: Description("The nextCursor of the previous page, as given; omit it for the first page.")][FromQuery(Name = "cursor")] string? Cursor)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public int Size => Limit ?? DefaultLimit;
}

public sealed class PageRequestValidator : AbstractValidator<PageRequest>
{
    public PageRequestValidator() => RuleFor(r => r.Limit).InclusiveBetween(1, PageRequest.MaxLimit);
}

/// <summary>
/// A keyset position: the sort key of the last row of a page (a timestamp's ticks, a date's day
/// number or a rank's bits) and its id.
/// </summary>
public readonly record struct Cursor(long Key, Guid Id)
{
    public DateTime At => new(Key, DateTimeKind.Utc);

    public static Cursor ForTime(DateTime at, Guid id) => new(at.Ticks, id);
}

public sealed class PagingOptions
{
    /// <summary>Base64 key that signs cursors. Set it when several instances serve one API; otherwise each process makes its own.</summary>
    public string? CursorKey { get; set; }
}

/// <summary>
/// Signs cursors with HMAC-SHA256 over the position and the query they belong to, so that an
/// edited cursor, or one carried over to another query, is refused instead of giving a wrong page.
/// </summary>
public sealed class CursorProtector
{
    private const byte FormatVersion = 2;
    // 1 + 8 + 16 + 17 = 42 bytes: a multiple of three, so every base64 character carries data
    // and no character can be edited without changing the bytes.
    private const int MacLength = 17;
    private const int Length = 1 + 8 + 16 + MacLength;
    private readonly byte[] _key;

    public CursorProtector(IOptions<PagingOptions> options) =>
        _key = options.Value.CursorKey is { Length: > 0 } configured ? Convert.FromBase64String(configured) : RandomNumberGenerator.GetBytes(32);

    public const string InvalidMessage = "Not a cursor this API issued for this query. Pass nextCursor from the previous page unchanged, with the same filters.";

    public string Protect(Cursor cursor, string scope)
    {
        Span<byte> bytes = stackalloc byte[Length];
        bytes[0] = FormatVersion;
        BinaryPrimitives.WriteInt64BigEndian(bytes[1..], cursor.Key);
        cursor.Id.TryWriteBytes(bytes[9..], bigEndian: true, out _);
        Mac(bytes[..^MacLength], scope, bytes[^MacLength..]);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Null text is the first page; anything that is not a cursor we issued for <paramref name="scope"/> fails.</summary>
    public bool TryUnprotect(string? text, string scope, out Cursor? cursor)
    {
        cursor = null;
        if (text is null)
        {
            return true;
        }

        if (text.Length is 0 or > 80)
        {
            return false;
        }

        var base64 = text.Replace('-', '+').Replace('_', '/');
        base64 += new string('=', (4 - base64.Length % 4) % 4);
        Span<byte> bytes = stackalloc byte[64];
        if (!Convert.TryFromBase64String(base64, bytes, out var written) || written != Length || bytes[0] != FormatVersion)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[MacLength];
        Mac(bytes[..(Length - MacLength)], scope, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes[(Length - MacLength)..Length]))
        {
            return false;
        }

        cursor = new Cursor(BinaryPrimitives.ReadInt64BigEndian(bytes[1..]), new Guid(bytes[9..25], bigEndian: true));
        return true;
    }

    private void Mac(ReadOnlySpan<byte> position, string scope, Span<byte> destination)
    {
        var scopeBytes = Encoding.UTF8.GetBytes(scope);
        var message = new byte[position.Length + scopeBytes.Length];
        position.CopyTo(message);
        scopeBytes.CopyTo(message.AsSpan(position.Length));
        Span<byte> full = stackalloc byte[32];
        HMACSHA256.HashData(_key, message, full);
        full[..MacLength].CopyTo(destination);
    }
}

public static class PageExtensions
{
    /// <summary>
    /// Turns the rows of a query that asked for one row more than the page size into a page:
    /// the extra row only says that another page exists.
    /// </summary>
    public static Page<TOut> ToPage<TRow, TOut>(this IReadOnlyList<TRow> rows, int size, Func<TRow, TOut> map, Func<TRow, Cursor> position,
        CursorProtector cursors, string scope)
    {
        var hasMore = rows.Count > size;
        var items = new TOut[Math.Min(rows.Count, size)];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = map(rows[i]);
        }

        return new Page<TOut>(items, hasMore ? cursors.Protect(position(rows[size - 1]), scope) : null);
    }

    /// <summary>
    /// A page of one parent's rows in one round trip: whether the parent exists (null when it does
    /// not), then the page. <paramref name="pageSql"/> uses @ParentId, @Take, @At and @Id.
    /// </summary>
    public static async Task<List<TRow>?> ChildPageAsync<TRow>(
        this NpgsqlDataSource db, string parentTable, Guid parentId, string pageSql, Cursor? after, int size, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            $"SELECT EXISTS (SELECT 1 FROM {parentTable} WHERE id = @ParentId);\n{pageSql}",
            new { ParentId = parentId, Take = size + 1, after?.At, after?.Id }, cancellationToken: ct));
        return await results.ReadSingleAsync<bool>() ? (await results.ReadAsync<TRow>()).AsList() : null;
    }

    public static ValidationProblem BadCursor() =>
        Problems.Invalid("cursor", CursorProtector.InvalidMessage);
}
