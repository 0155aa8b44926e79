using Claims.Api.Http;

namespace Claims.Tests.Infrastructure;

/// <summary>
/// Follows nextCursor through a list, the one way tests do it. Bounded: a list that never ends
/// fails the test at <c>maxPages</c> instead of hanging it.
/// </summary>
public static class Paging
{
    /// <summary>
    /// Every page of the list at <paramref name="url"/>, first to last. Each is a 200 with at most
    /// the page size (the url's limit, 50 by default) and exactly that many when another page
    /// follows. <paramref name="beforeNextPage"/> runs before each page after the first;
    /// <paramref name="itemsProperty"/> names the page's list where it is not items (a DataFeed's dataFeedElement).
    /// </summary>
    public static async Task<List<JsonElement>> ReadPagesAsync(
        this HttpClient client, string url, int maxPages, Func<Task>? beforeNextPage = null, string itemsProperty = "items")
    {
        var size = PageSize(url);
        var pages = new List<JsonElement>();
        string? cursor = null;
        do
        {
            Assert.True(pages.Count < maxPages, $"Paging {url} did not end within {maxPages} pages.");
            if (pages.Count > 0 && beforeNextPage is not null)
            {
                await beforeNextPage();
            }

            var next = cursor is null ? url : $"{url}{(url.Contains('?', StringComparison.Ordinal) ? '&' : '?')}cursor={Uri.EscapeDataString(cursor)}";
            var page = await (await client.GetAsync(next)).ReadJsonAsync(HttpStatusCode.OK);
            cursor = page.GetProperty("nextCursor").GetString();
            var count = page.GetProperty(itemsProperty).GetArrayLength();
            Assert.True(cursor is null ? count <= size : count == size,
                $"Page {pages.Count + 1} of {url} has {count} items, page size {size}, {(cursor is null ? "last page" : "another page follows")}.");
            pages.Add(page);
        }
        while (cursor is not null);

        return pages;
    }

    /// <summary>The items of every page of the list at <paramref name="url"/>, in order (see <see cref="ReadPagesAsync"/>).</summary>
    public static async Task<List<JsonElement>> ReadAllPagesAsync(this HttpClient client, string url, int maxPages) =>
        [.. (await client.ReadPagesAsync(url, maxPages)).SelectMany(Items)];

    public static IEnumerable<JsonElement> Items(this JsonElement page) => page.GetProperty("items").EnumerateArray();

    private static int PageSize(string url)
    {
        var query = url.IndexOf('?', StringComparison.Ordinal) is var at and >= 0 ? url[(at + 1)..] : "";
        var limit = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query).TryGetValue("limit", out var values) ? values.ToString() : null;
        return limit is null ? PageRequest.DefaultLimit : int.Parse(limit, System.Globalization.CultureInfo.InvariantCulture);
    }
}
