using System.Globalization;
using Claims.Api.Http;

namespace Claims.Api.Claims;

/// <summary>
/// One order of GET /claims: its sort key in SQL, and that key in a cursor. Each order has a key
/// type of its own, so that a cursor decodes to the kind of value its SQL compares.
/// </summary>
internal abstract class ClaimOrder
{
    private static readonly ClaimOrder Updated = new Of<TimeKey>("c.updated_at", "@After", r => new TimeKey(r.UpdatedAt, r.Id), k => k.At);

    private static readonly ClaimOrder Created = new Of<TimeKey>("c.created_at", "@After", r => new TimeKey(r.CreatedAt, r.Id), k => k.At);

    // Written with the same expression as the -firstReportedOn index, so that one index serves
    // both. The key goes as text: Npgsql writes DateOnly.MinValue, the undated claims' key, as -infinity.
    private static readonly ClaimOrder FirstReported = new Of<DayKey>(
        "coalesce(c.first_reported_on, '0001-01-01'::date)", "@After::date",
        r => new DayKey(r.FirstReportedOn ?? DateOnly.MinValue, r.Id), k => k.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));

    private static readonly ClaimOrder Ranked = new Of<RankKey>("c.rank", "@After", r => new RankKey(r.Rank, r.Id), k => k.Rank);

    private ClaimOrder(string key, string after)
    {
        Key = key;
        Keyset = $"({key}, c.id) < ({after}, @AfterId)";
    }

    /// <summary>The sort key as SQL, over a claim aliased c.</summary>
    public string Key { get; }

    /// <summary>The condition of the rows after a cursor's position, with @After and @AfterId.</summary>
    public string Keyset { get; }

    public static ClaimOrder For(string sort) => sort switch
    {
        "-createdAt" => Created,
        "-firstReportedOn" => FirstReported,
        ClaimQuery.Relevance => Ranked,
        _ => Updated,
    };

    /// <summary>
    /// Reads a cursor of this order into the parameters of <see cref="Keyset"/> (null on the first
    /// page); false for text that is not a cursor issued for <paramref name="scope"/>.
    /// </summary>
    public abstract bool TryReadCursor(CursorProtector cursors, string? text, string scope, out KeysetPosition? after);

    /// <summary>A page of claims whose next cursor is the last row's key in this order.</summary>
    public abstract Page<Claim> ToPage(IReadOnlyList<RankedClaimRow> rows, int size, CursorProtector cursors, string scope);

    private sealed class Of<TKey>(string key, string after, Func<RankedClaimRow, TKey> keyOf, Func<TKey, object> parameter)
        : ClaimOrder(key, after) where TKey : struct, ICursorKey<TKey>
    {
        public override bool TryReadCursor(CursorProtector cursors, string? text, string scope, out KeysetPosition? after)
        {
            var valid = cursors.TryDecode<TKey>(text, scope, out var key);
            after = key is { } position ? new KeysetPosition(parameter(position), position.Id) : null;
            return valid;
        }

        public override Page<Claim> ToPage(IReadOnlyList<RankedClaimRow> rows, int size, CursorProtector cursors, string scope) =>
            rows.ToPage(size, r => r.ToClaim(), keyOf, cursors, scope);
    }
}

/// <summary>Where the next page starts: the last row's sort key as the SQL takes it, and its id.</summary>
internal sealed record KeysetPosition(object After, Guid AfterId);
