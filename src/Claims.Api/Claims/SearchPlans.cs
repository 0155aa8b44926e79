using Microsoft.Extensions.Caching.Memory;

namespace Claims.Api.Claims;

/// <summary>
/// Searches (q with their filters and order) that came up short when read newest first, so that
/// their next pages and repeats go straight to the full-text index. Bounded, and forgotten after
/// a few minutes: a word that was rare becomes common when a story breaks.
/// </summary>
public sealed class SearchPlans : IDisposable
{
    private static readonly TimeSpan Memory = TimeSpan.FromMinutes(5);

    private readonly MemoryCache _rare = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    public bool IsKnownRare(string scope) => _rare.TryGetValue(scope, out _);

    public void RememberRare(string scope) =>
        _rare.Set(scope, true, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = Memory });

    public void Dispose() => _rare.Dispose();
}
