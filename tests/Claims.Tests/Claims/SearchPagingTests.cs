using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Claims.Api.Claims;
using Claims.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Claims.Tests;

/// <summary>
/// Searches page through their matches in every order: a time order returns each match once, in
/// order, for a common, an occasional and a rare word; relevance ranks a window of the newest
/// matches (five here, Search:RelevanceWindow, 200 in production), best first, and pages through
/// it, yet finds a rare word's matches however old. Run twice: reading newest first through the
/// whole (small) table, and giving way to the full-text index after a single claim per match.
/// </summary>
public abstract class SearchPagingTests
{
    private const int Window = 5;
    private readonly HttpClient _client;
    private readonly SearchPlans _plans;

    protected SearchPagingTests(ApiFactory api, int walkPerMatch, int minimumWalk)
    {
        api.Settings["Search:RelevanceWindow"] = Window.ToString(CultureInfo.InvariantCulture);
        api.Settings["Search:WalkPerMatch"] = walkPerMatch.ToString(CultureInfo.InvariantCulture);
        api.Settings["Search:MinimumWalk"] = minimumWalk.ToString(CultureInfo.InvariantCulture);
        _client = api.CreateClient();
        _plans = api.Services.GetRequiredService<SearchPlans>();
    }

    [Theory]
    [InlineData("-updatedAt", 1)]
    [InlineData("-updatedAt", 4)]
    [InlineData("-createdAt", 3)]
    [InlineData("-firstReportedOn", 2)]
    [InlineData("-firstReportedOn", 50)]
    public async Task PagingATimeOrderReturnsEveryMatchOfACommonOrRareWordOnceInOrder(string sort, int limit)
    {
        var tag = NewTag();
        // Oldest first: a rare word only in the two oldest claims, a common word in all, a word in
        // every third; reported one day apart, newest last.
        var created = new List<(Guid Id, string Statement)>();
        for (var i = 0; i < 24; i++)
        {
            var statement = (i < 2 ? "Quillwort depot " : "") + (i % 3 == 0 ? "Sandpiper convoy " : "Convoy ") + $"moved at dawn, report {i}.";
            created.Add((await CreateAsync(statement, tag, new DateOnly(2024, 1, 1).AddDays(i)), statement));
        }

        var newestFirst = ((IEnumerable<(Guid Id, string Statement)>)created).Reverse().ToList();
        foreach (var word in new[] { "convoy", "sandpiper", "quillwort" })
        {
            var expected = newestFirst.Where(c => c.Statement.Contains(word, StringComparison.OrdinalIgnoreCase)).Select(c => c.Id).ToList();

            var found = await AllAsync($"tag={tag}&q={word}&sort={sort}", limit);

            Assert.Equal(expected, found);
        }
    }

    [Fact]
    public async Task RelevanceFindsARareWordsOldMatchesAndRanksOnlyTheNewestWindowOfACommonWord()
    {
        var tag = NewTag();
        var old = await BuryAsync(tag, "Quillwort", matches: 2, newer: 40);

        var recent = new List<Guid>();
        for (var i = 0; i < Window + 2; i++)
        {
            recent.Add(await CreateAsync($"Marram ferry sighted, report {i}.", tag, null));
        }

        var rare = await AllAsync($"tag={tag}&q=quillwort", 1);
        var common = await AllAsync($"tag={tag}&q=marram", 2);

        Assert.Equal(old.Order(), rare.Order());
        Assert.Equal(recent.Skip(2).Order(), common.Order());
    }

    [Fact]
    public async Task RelevanceRanksTheNewestMatchesBestFirstAndTimeOrdersStillReachEveryMatch()
    {
        var tag = NewTag();
        // Oldest first: three strong matches that fall outside the window, then five newer ones, of
        // which the second newest mentions the word twice and so ranks first.
        var oldStrong = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            oldStrong.Add(await CreateAsync($"Kestrelfield drills: kestrelfield units at kestrelfield range {i}.", tag, null));
        }

        var recent = new List<Guid>();
        for (var i = 0; i < Window; i++)
        {
            recent.Add(await CreateAsync(i == Window - 2 ? $"Kestrelfield troops left kestrelfield, report {i}." : $"Troops were seen near Kestrelfield, report {i}.", tag, null));
        }

        var ranked = await AllAsync($"tag={tag}&q=kestrelfield", 200);
        var newest = await AllAsync($"tag={tag}&q=kestrelfield&sort=-updatedAt", 200);

        Assert.Equal(recent.Order(), ranked.Order());
        Assert.Equal(recent[Window - 2], ranked[0]);
        Assert.Equal(((IEnumerable<Guid>)recent).Reverse().Concat(((IEnumerable<Guid>)oldStrong).Reverse()), newest);
    }

    [Fact]
    public async Task PagingThroughTheRankedWindowReturnsEachOfItsClaimsOnceInRankOrder()
    {
        var tag = NewTag();
        for (var i = 0; i < Window + 3; i++)
        {
            await CreateAsync(string.Join(' ', Enumerable.Repeat("Marshwren", 1 + (i % 3))) + $" convoy sighted, report {i}.", tag, null);
        }

        var whole = await AllAsync($"tag={tag}&q=marshwren", 200);
        var paged = await AllAsync($"tag={tag}&q=marshwren", 2);

        Assert.Equal(Window, whole.Count);
        Assert.Equal(whole, paged);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task PagingAPartOfACyrillicWordReturnsEveryClaimContainingItOnceInOrder(int limit)
    {
        var tag = NewTag();
        // Oldest first: the word's forms in some Ukrainian claims, a neighbouring town in others.
        var statements = new[]
        {
            "Бої біля Покровська тривають.", "Колона рухалася до Мирнограда.", "Під Покровськом збито дрон.",
            "Мирноград під обстрілом.", "Евакуація з Покровська триває.", "Біля Мирнограда тихо.",
            "Покровськ без світла.", "Мирноград без води.", "Мирноград і далі під обстрілом.",
        };
        var created = new List<(Guid Id, string Statement)>();
        foreach (var statement in statements)
        {
            var response = await _client.PostAsJsonAsync("/claims", new { statement, language = "uk", tags = new[] { tag } });
            created.Add(((await response.ReadJsonAsync(HttpStatusCode.Created)).Id(), statement));
        }

        var expected = ((IEnumerable<(Guid Id, string Statement)>)created).Reverse()
            .Where(c => c.Statement.Contains("покровськ", StringComparison.OrdinalIgnoreCase)).Select(c => c.Id).ToList();

        var found = await AllAsync($"tag={tag}&q={Uri.EscapeDataString("Покровськ")}&sort=-updatedAt", limit);

        Assert.Equal(4, expected.Count);
        Assert.Equal(expected, found);
    }

    [Fact]
    public async Task PagingACommonWordToItsShortLastPageLeavesItsFirstPageReadNewestFirst()
    {
        var tag = NewTag();
        var created = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            created.Add(await CreateAsync($"Sandwort convoy moved at dawn, report {i}.", tag, null));
        }

        var found = await AllAsync($"tag={tag}&q=sandwort&sort=-updatedAt", 2);

        Assert.Equal(((IEnumerable<Guid>)created).Reverse(), found);
        Assert.False(_plans.IsKnownRare(Search(tag, "sandwort", 2, "-updatedAt")));
    }

    [Fact]
    public async Task AWordMissingFromTheNewestClaimsGoesToTheIndexFromItsFirstPageOn()
    {
        var tag = NewTag();
        var old = await BuryAsync(tag, "Pennywort", matches: 2, newer: 6);

        var first = await AllAsync($"tag={tag}&q=pennywort&sort=-updatedAt", 2);
        var again = await AllAsync($"tag={tag}&q=pennywort&sort=-updatedAt", 2);

        Assert.True(_plans.IsKnownRare(Search(tag, "pennywort", 2, "-updatedAt")));
        Assert.Equal(((IEnumerable<Guid>)old).Reverse(), first);
        Assert.Equal(first, again);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task WithoutFiltersLongAndShortClaimsAreWalkedTogetherNewestFirst(int limit)
    {
        // No filter, so the walk reads the two walk indexes (short texts with their vectors, long
        // texts apart) and merges them: a word of its own keeps other tests' claims out.
        var word = NewWord();
        var filler = string.Join(' ', Enumerable.Repeat("The convoy was seen again on the northern road before dawn.", 8));
        var created = new List<Guid>();
        for (var i = 0; i < 9; i++)
        {
            var response = await _client.PostAsJsonAsync("/claims",
                new { statement = $"{word} convoy sighted, report {i}.", summary = i % 3 == 1 ? filler : null, language = "en" });
            created.Add((await response.ReadJsonAsync(HttpStatusCode.Created)).Id());
        }

        var newest = await AllAsync($"q={word}&sort=-updatedAt", limit);
        var ranked = await AllAsync($"q={word}", limit);

        Assert.Equal(((IEnumerable<Guid>)created).Reverse(), newest);
        Assert.Equal(created.Skip(9 - Window).Order(), ranked.Order());
    }

    [Fact]
    public async Task TheDensestTextAtTheWalkIndexBoundAndOneByteOverAreStoredAndFound()
    {
        // A one-syllable Korean word makes the largest search_vector per byte of text (indexed as a
        // word and as a piece): 400 bytes of them must fit the index that holds vectors, and 401
        // bytes go to the other one.
        var word = NewWord();
        var found = new List<Guid>();
        foreach (var bytes in new[] { 400, 401 })
        {
            var statement = new StringBuilder(word);
            for (var syllable = 0xAC00; Encoding.UTF8.GetByteCount(statement.ToString()) + 4 <= bytes; syllable++)
            {
                statement.Append(' ').Append((char)syllable);
            }

            statement.Append('.', bytes - Encoding.UTF8.GetByteCount(statement.ToString()));
            var response = await _client.PostAsJsonAsync("/claims", new { statement = statement.ToString(), language = "ko" });
            found.Add((await response.ReadJsonAsync(HttpStatusCode.Created)).Id());
        }

        Assert.Equal(((IEnumerable<Guid>)found).Reverse(), await AllAsync($"q={word}&sort=-updatedAt", 1));
        Assert.Equal(found.Order(), (await AllAsync($"q={word}", 1)).Order());
    }

    private static ClaimQuery Search(string tag, string q, int limit, string? sort = null) =>
        new(null, [tag], null, null, null, null, null, null, q, sort, limit, null);

    /// <summary>Claims with the word, then newer ones without it, so that its matches are far from the newest.</summary>
    private async Task<List<Guid>> BuryAsync(string tag, string word, int matches, int newer)
    {
        var old = new List<Guid>();
        for (var i = 0; i < matches; i++)
        {
            old.Add(await CreateAsync($"{word} depot sighted, report {i}.", tag, null));
        }

        for (var i = 0; i < newer; i++)
        {
            await CreateAsync($"Depot sighted, report {i}.", tag, null);
        }

        return old;
    }

    private static string NewTag() => "paging-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>A made-up Latin word no other test writes, so that a search needs no filter to see only this test's claims.</summary>
    private static string NewWord() => "zelt" + string.Concat(Guid.NewGuid().ToString("N")[..8].Select(ch => (char)('a' + (ch % 16))));

    private async Task<Guid> CreateAsync(string statement, string tag, DateOnly? firstReportedOn)
    {
        var response = await _client.PostAsJsonAsync("/claims", new { statement, language = "en", tags = new[] { tag }, firstReportedOn });
        return (await response.ReadJsonAsync(HttpStatusCode.Created)).Id();
    }

    /// <summary>The ids of every claim the query finds, following nextCursor to the last page.</summary>
    private async Task<List<Guid>> AllAsync(string query, int limit) =>
        [.. (await _client.ReadAllPagesAsync($"/claims?{query}&limit={limit}", maxPages: 500)).Select(c => c.Id())];
}

/// <summary>The production walk: these tables are small enough to be read newest first in full.</summary>
public sealed class SearchPagingReadingNewestFirstTests(ApiFactory api) : SearchPagingTests(api, walkPerMatch: 40, minimumWalk: 4000), IClassFixture<ApiFactory>;

/// <summary>A walk of one claim per match: most pages come up short and are read through the full-text index.</summary>
public sealed class SearchPagingThroughTheIndexTests(ApiFactory api) : SearchPagingTests(api, walkPerMatch: 1, minimumWalk: 1), IClassFixture<ApiFactory>;
