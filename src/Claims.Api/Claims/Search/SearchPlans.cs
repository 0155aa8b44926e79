using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;

namespace Claims.Api.Claims;

/// <summary>
/// Searches (q with their filters, order and page size) whose first page came up short when read
/// newest first, so that repeats go straight to the full-text index. Only a first page teaches
/// this: a last page, or a cursor deep into older claims, comes up short for a common word too.
/// Bounded, keyed by a hash (a scope is as long as the query string), and forgotten after a few
/// minutes: a word that was rare becomes common when a story breaks.
/// </summary>
public sealed class SearchPlans : IDisposable
{
    private static readonly TimeSpan Memory = TimeSpan.FromMinutes(5);

    private readonly MemoryCache _rare = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    public bool IsKnownRare(ClaimQuery query) => _rare.TryGetValue(Key(query), out _);

    public void RememberRare(ClaimQuery query) =>
        _rare.Set(Key(query), true, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = Memory });

    public void Dispose() => _rare.Dispose();

    private static string Key(ClaimQuery query) =>
        Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes($"{query.Scope}|{query.Size}")));
}
