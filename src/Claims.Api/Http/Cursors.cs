using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Claims.Api.Http;

/// <summary>
/// A keyset position that a cursor can carry: the sort key of the last row of a page, as 64 bits,
/// and that row's id. Each kind of sort key is a record of its own, so that a list decodes its
/// cursors to the very type its SQL compares.
/// </summary>
public interface ICursorKey<TSelf> where TSelf : struct, ICursorKey<TSelf>
{
    /// <summary>The sort key as 64 bits: a timestamp's ticks, a date's day number, a float's bits.</summary>
    long Bits { get; }

    Guid Id { get; }

    /// <summary>The position back from its bits; false for bits that no key of this kind has.</summary>
    static abstract bool TryCreate(long bits, Guid id, out TSelf key);
}

/// <summary>A position in a list ordered by a moment (created, changed, linked), then id.</summary>
public readonly record struct TimeKey(DateTime At, Guid Id) : ICursorKey<TimeKey>
{
    long ICursorKey<TimeKey>.Bits => At.Ticks;

    static bool ICursorKey<TimeKey>.TryCreate(long bits, Guid id, out TimeKey key)
    {
        var valid = bits >= DateTime.MinValue.Ticks && bits <= DateTime.MaxValue.Ticks;
        key = valid ? new TimeKey(new DateTime(bits, DateTimeKind.Utc), id) : default;
        return valid;
    }
}

/// <summary>A position in a list ordered by a day, then id.</summary>
public readonly record struct DayKey(DateOnly Day, Guid Id) : ICursorKey<DayKey>
{
    long ICursorKey<DayKey>.Bits => Day.DayNumber;

    static bool ICursorKey<DayKey>.TryCreate(long bits, Guid id, out DayKey key)
    {
        var valid = bits >= DateOnly.MinValue.DayNumber && bits <= DateOnly.MaxValue.DayNumber;
        key = valid ? new DayKey(DateOnly.FromDayNumber((int)bits), id) : default;
        return valid;
    }
}

/// <summary>A position in a list ordered by a score or rank, then id.</summary>
public readonly record struct RankKey(float Rank, Guid Id) : ICursorKey<RankKey>
{
    long ICursorKey<RankKey>.Bits => BitConverter.SingleToInt32Bits(Rank);

    static bool ICursorKey<RankKey>.TryCreate(long bits, Guid id, out RankKey key)
    {
        var valid = bits is >= int.MinValue and <= int.MaxValue;
        key = valid ? new RankKey(BitConverter.Int32BitsToSingle((int)bits), id) : default;
        return valid;
    }
}

public sealed class PagingOptions
{
    /// <summary>Base64 key that signs cursors. Set it when several instances serve one API; otherwise each process makes its own.</summary>
    public string? CursorKey { get; set; }
}

/// <summary>
/// The one way cursors are written and read, whatever the key: signed with HMAC-SHA256 over the
/// position and the query they belong to, so that an edited cursor, or one carried over to
/// another query, is refused instead of giving a wrong page.
/// </summary>
public sealed class CursorProtector
{
    /// <summary>Longer than any cursor this API issues (56 characters), so longer text is refused unread.</summary>
    public const int MaxLength = 80;

    private const byte FormatVersion = 2;
    // 1 + 8 + 16 + 17 = 42 bytes: a multiple of three, so every base64 character carries data
    // and no character can be edited without changing the bytes.
    private const int MacLength = 17;
    private const int Length = 1 + 8 + 16 + MacLength;
    private readonly byte[] _key;

    public CursorProtector(IOptions<PagingOptions> options) =>
        _key = options.Value.CursorKey is { Length: > 0 } configured ? Convert.FromBase64String(configured) : RandomNumberGenerator.GetBytes(32);

    public const string InvalidMessage = "Not a cursor this API issued for this query. Pass nextCursor from the previous page unchanged, with the same filters.";

    public string Encode<TKey>(TKey key, string scope) where TKey : struct, ICursorKey<TKey>
    {
        Span<byte> bytes = stackalloc byte[Length];
        bytes[0] = FormatVersion;
        BinaryPrimitives.WriteInt64BigEndian(bytes[1..], key.Bits);
        key.Id.TryWriteBytes(bytes[9..], bigEndian: true, out _);
        Mac(bytes[..^MacLength], scope, bytes[^MacLength..]);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>
    /// Null text is the first page (true, with no key); anything that is not a cursor we issued
    /// for <paramref name="scope"/> fails. The scope holds the order, so it also fixes the key's type.
    /// </summary>
    public bool TryDecode<TKey>(string? text, string scope, out TKey? key) where TKey : struct, ICursorKey<TKey>
    {
        key = null;
        if (text is null)
        {
            return true;
        }

        if (text.Length is 0 or > MaxLength)
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
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes[(Length - MacLength)..Length])
            || !TKey.TryCreate(BinaryPrimitives.ReadInt64BigEndian(bytes[1..]), new Guid(bytes[9..25], bigEndian: true), out var decoded))
        {
            return false;
        }

        key = decoded;
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
