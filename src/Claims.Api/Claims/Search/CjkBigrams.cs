using System.Text.RegularExpressions;

namespace Claims.Api.Claims;

/// <summary>The query side of the two-character pieces that db/0002_search.sql indexes for CJK scripts.</summary>
internal static partial class CjkBigrams
{
    /// <summary>A tsquery text: each run's pieces in a row ('러시' &lt;-&gt; '시아'), runs ANDed; null without CJK text.</summary>
    public static string? Query(string text)
    {
        var runs = Run().Matches(text).Select(m => m.Value).ToList();
        if (runs.Count == 0)
        {
            return null;
        }

        return string.Join(" & ", runs.Select(run => run.Length == 1
            ? $"'{run}'"
            : "(" + string.Join(" <-> ", Enumerable.Range(0, run.Length - 1).Select(i => $"'{run.Substring(i, 2)}'")) + ")"));
    }

    // The same character classes as the SQL function: Hangul jamo, kana, CJK ideographs, Hangul syllables.
    [GeneratedRegex("[\u1100-\u11FF\u3040-\u30FF\u3400-\u9FFF\uAC00-\uD7AF]+")]
    private static partial Regex Run();
}
