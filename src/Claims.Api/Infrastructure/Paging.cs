using System.Buffers.Binary;
using System.ComponentModel;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;

namespace Claims.Api.Infrastructure;

/// <summary>One page of a list. <c>nextCursor</c> is null on the last page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>Query parameters shared by every list.</summary>
public sealed record PageRequest(
    [property: Description("Page size, 1 to 200. Default 50.")][FromQuery(Name = "limit")] int? Limit,
    [property: Description("The nextCursor of the previous page, as given; omit it for the first page.")][FromQuery(Name = "cursor")] string? Cursor)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public int Size => Limit ?? DefaultLimit;

    /// <summary>The position after which the page starts, or null for the first page.</summary>
    public Cursor? After => Cursor is null ? null : Infrastructure.Cursor.Decode(Cursor);
}

public sealed class PageRequestValidator : AbstractValidator<PageRequest>
{
    public PageRequestValidator()
    {
        RuleFor(r => r.Limit).InclusiveBetween(1, PageRequest.MaxLimit);
        RuleFor(r => r.Cursor)
            .Must(c => Cursor.TryDecode(c!, out _))
            .When(r => r.Cursor is not null)
            .WithMessage("Not a cursor this API issued. Pass nextCursor from the previous page unchanged.");
    }
}

/// <summary>
/// A keyset position: the sort timestamp and id of the last row of a page. Encoded as
/// base64url so that clients treat it as opaque.
/// </summary>
public readonly record struct Cursor(DateTime At, Guid Id)
{
    private const byte FormatVersion = 1;
    private const int Length = 1 + 8 + 16;

    public string Encode()
    {
        Span<byte> bytes = stackalloc byte[Length];
        bytes[0] = FormatVersion;
        BinaryPrimitives.WriteInt64BigEndian(bytes[1..], At.Ticks);
        Id.TryWriteBytes(bytes[9..], bigEndian: true, out _);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static Cursor Decode(string text) =>
        TryDecode(text, out var cursor) ? cursor : throw new FormatException("Not a cursor.");

    public static bool TryDecode(string text, out Cursor cursor)
    {
        cursor = default;
        if (text.Length is 0 or > 64)
        {
            return false;
        }

        var base64 = text.Replace('-', '+').Replace('_', '/');
        base64 += new string('=', (4 - base64.Length % 4) % 4);
        Span<byte> bytes = stackalloc byte[48];
        if (!Convert.TryFromBase64String(base64, bytes, out var written) || written != Length || bytes[0] != FormatVersion)
        {
            return false;
        }

        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes[1..]);
        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
        {
            return false;
        }

        cursor = new Cursor(new DateTime(ticks, DateTimeKind.Utc), new Guid(bytes[9..Length], bigEndian: true));
        return true;
    }
}

public static class PageExtensions
{
    /// <summary>
    /// Turns the rows of a query that asked for one row more than the page size into a page:
    /// the extra row only says that another page exists.
    /// </summary>
    public static Page<TOut> ToPage<TRow, TOut>(this IReadOnlyList<TRow> rows, int size, Func<TRow, TOut> map, Func<TRow, Cursor> position)
    {
        var hasMore = rows.Count > size;
        var items = new TOut[Math.Min(rows.Count, size)];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = map(rows[i]);
        }

        return new Page<TOut>(items, hasMore ? position(rows[size - 1]).Encode() : null);
    }
}
