using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Claims.Api.Errors;
using Dapper;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Claims.Api.Http;

/// <summary>A page of any kind, for what is the same on every list (the Link header).</summary>
public interface IPage
{
    string? NextCursor { get; }

    /// <summary>The query parameter that takes <see cref="NextCursor"/>: cursor, unless the list pages by another (the feed's after).</summary>
    string CursorParameter => "cursor";
}

/// <summary>One page of a list. <c>nextCursor</c> is null on the last page.</summary>
public sealed record Page<T>(
    [property: MaxLength(PageRequest.MaxLimit)] IReadOnlyList<T> Items,
    [property: MaxLength(CursorProtector.MaxLength)] string? NextCursor) : IPage;

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

            if (result is IValueHttpResult { Value: IPage { NextCursor: { } cursor } page })
            {
                var request = invocation.HttpContext.Request;
                var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(request.QueryString.Value);
                query[page.CursorParameter] = cursor;
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
    [property: Description("The nextCursor of the previous page, as given; omit it for the first page."), MaxLength(CursorProtector.MaxLength)][FromQuery(Name = "cursor")] string? Cursor)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public int Size => Limit ?? DefaultLimit;
}

public sealed class PageRequestValidator : AbstractValidator<PageRequest>
{
    public PageRequestValidator() => RuleFor(r => r.Limit).InclusiveBetween(1, PageRequest.MaxLimit);
}

public static class PageExtensions
{
    /// <summary>
    /// Turns the rows of a query that asked for one row more than the page size into a page:
    /// the extra row only says that another page exists.
    /// </summary>
    public static Page<TOut> ToPage<TRow, TOut, TKey>(this IReadOnlyList<TRow> rows, int size, Func<TRow, TOut> map, Func<TRow, TKey> position,
        CursorProtector cursors, string scope) where TKey : struct, ICursorKey<TKey>
    {
        var hasMore = rows.Count > size;
        var items = new TOut[Math.Min(rows.Count, size)];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = map(rows[i]);
        }

        return new Page<TOut>(items, hasMore ? cursors.Encode(position(rows[size - 1]), scope) : null);
    }

    /// <summary>
    /// The SQL of a page of a relation table listed from either side, for <see cref="ChildPageAsync"/>:
    /// the rows whose <paramref name="side"/> or <paramref name="otherSide"/> column is @ParentId,
    /// each side read newest first through its own index as far as the page needs, then merged.
    /// <paramref name="from"/> names the table as r with any joins, <paramref name="keyset"/> is
    /// empty or the condition after a cursor.
    /// </summary>
    public static string EitherSidePage(string columns, string from, string side, string otherSide, string keyset) =>
        $"""
        SELECT * FROM (
            (SELECT {columns} FROM {from}
             WHERE r.{side} = @ParentId {keyset}
             ORDER BY r.created_at DESC, r.id DESC LIMIT @Take)
            UNION ALL
            (SELECT {columns} FROM {from}
             WHERE r.{otherSide} = @ParentId {keyset}
             ORDER BY r.created_at DESC, r.id DESC LIMIT @Take)
        ) AS both_sides
        ORDER BY created_at DESC, id DESC LIMIT @Take
        """;

    /// <summary>
    /// A page of one parent's rows in one round trip: whether the parent exists (null when it does
    /// not), then the page. <paramref name="pageSql"/> uses @ParentId, @Take, @At and @Id.
    /// </summary>
    public static async Task<List<TRow>?> ChildPageAsync<TRow>(
        this NpgsqlConnection connection, string parentTable, Guid parentId, string pageSql, TimeKey? after, int size, CancellationToken ct)
    {
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            $"SELECT EXISTS (SELECT 1 FROM {parentTable} WHERE id = @ParentId);\n{pageSql}",
            new { ParentId = parentId, Take = size + 1, after?.At, after?.Id }, cancellationToken: ct));
        return await results.ReadSingleAsync<bool>() ? (await results.ReadAsync<TRow>()).AsList() : null;
    }

    /// <summary>
    /// The rows of a page of a whole table, newest first by (created_at, id), one more than
    /// <paramref name="size"/> (see <see cref="ToPage"/>). <paramref name="select"/> is "SELECT columns FROM table".
    /// </summary>
    public static async Task<List<TRow>> NewestFirstAsync<TRow>(this NpgsqlDataSource db, string select, TimeKey? after, int size, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<TRow>(new CommandDefinition(
            $"""
            {select}
            {(after is null ? "" : "WHERE (created_at, id) < (@At, @Id)")}
            ORDER BY created_at DESC, id DESC LIMIT @Take
            """,
            new { Take = size + 1, after?.At, after?.Id }, cancellationToken: ct))).AsList();
    }

    public static ValidationProblem BadCursor() =>
        Problems.Invalid("cursor", CursorProtector.InvalidMessage);
}
