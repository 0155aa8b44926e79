namespace Claims.Api.Claims;

/// <summary>Settings of claim search (section "Search").</summary>
public sealed class SearchOptions
{
    /// <summary>
    /// How many of the most recently changed matches sort=relevance ranks (200 by default). Finding
    /// them costs reading ten times as many claims for a word in a tenth of them: with 500, a
    /// common word by relevance ran at 0.18 of a plain first page's rate, with 200 at 0.34.
    /// </summary>
    public int RelevanceWindow { get; set; } = 200;

    /// <summary>
    /// How many claims a search may read newest first for each match it needs (40 by default)
    /// before it collects the word's matches through the full-text index instead.
    /// </summary>
    public int WalkPerMatch { get; set; } = 40;

    /// <summary>The fewest claims a search reads newest first (4,000 by default).</summary>
    public int MinimumWalk { get; set; } = 4000;

    // Written into the SQL, not bound: a generic plan knows a literal limit, and takes a bound one
    // for a tenth of the table, which could make it sort a popular tag's claims instead of walking.
    // It comes from configuration, and is the same for every page size below a hundred.
    internal long Walk(int needed) => Math.Max(MinimumWalk, (long)needed * WalkPerMatch);
}
