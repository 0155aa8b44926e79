using System.Collections.Concurrent;
using Claims.Tests.Infrastructure;
using Npgsql;

namespace Claims.Tests;

/// <summary>
/// Keyset paging of GET /claims over more than a thousand claims, many sharing their sort key,
/// while another client keeps logging claims: every claim that existed when paging began is seen
/// exactly once, nothing twice, and the pages follow the order.
/// </summary>
public sealed class ClaimPagingTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const int Stored = 1200;
    private const int PageSize = 50;

    // sort=relevance ranks a window of the newest matches (Search:RelevanceWindow, 200 by default);
    // the search below pages through 600 matches, so this class widens the window: what it tests is
    // the paging, which must see every match in the window once while claims are added.
    private readonly HttpClient _client = WithRelevanceWindow(api, 2000).CreateClient();

    [Theory]
    [InlineData(null)]
    [InlineData("-updatedAt")]
    [InlineData("-createdAt")]
    [InlineData("-firstReportedOn")]
    public async Task PagingThroughAllClaimsSeesEachOnceInOrderWhileClaimsAreAdded(string? sort)
    {
        var tag = NewTag();
        await StoreClaimsAsync(tag);
        var before = await IdsAsync("SELECT id FROM claims");

        var (seen, written) = await PageWhileWritingAsync(sort is null ? "" : $"sort={sort}", tag);

        AssertEachSeenOnce(before, seen);
        AssertOrdered(seen, sort ?? "-updatedAt");
        Assert.NotEmpty(written);
    }

    [Fact]
    public async Task PagingWithRepeatedStatusSeesEachMatchingClaimOnceWhileClaimsAreAdded()
    {
        var tag = NewTag();
        await StoreClaimsAsync(tag);
        var before = await IdsAsync("SELECT id FROM claims WHERE status IN ('confirmed', 'disputed')");
        Assert.True(before.Count >= Stored / 3, $"Only {before.Count} confirmed or disputed claims.");

        var (seen, written) = await PageWhileWritingAsync("status=confirmed&status=disputed", tag);

        AssertEachSeenOnce(before, seen);
        Assert.All(seen, c => Assert.Contains(c.Str("status"), new[] { "confirmed", "disputed" }));
        AssertOrdered(seen, "-updatedAt");
        Assert.NotEmpty(written);
    }

    [Fact]
    public async Task PagingThroughASearchSeesEachMatchOnceBestFirstWhileClaimsAreAdded()
    {
        var tag = NewTag();
        await StoreClaimsAsync(tag);
        // Every fourth claim says 'deserted' in its statement, the one after it only in its summary.
        var inStatement = await IdsAsync("SELECT id FROM claims WHERE @tag = ANY(tags) AND statement LIKE '%deserted%'", tag);
        var inSummary = await IdsAsync("SELECT id FROM claims WHERE @tag = ANY(tags) AND statement NOT LIKE '%deserted%' AND summary LIKE '%deserted%'", tag);
        Assert.Equal(Stored / 2, inStatement.Count + inSummary.Count);

        var (seen, written) = await PageWhileWritingAsync($"tag={tag}&q=desertion", tag);

        AssertEachSeenOnce(inStatement.Union(inSummary).ToHashSet(), seen);
        var ids = seen.Select(c => c.Id()).ToList();
        var lastStatementMatch = ids.FindLastIndex(inStatement.Contains);
        var firstSummaryMatch = ids.FindIndex(inSummary.Contains);
        Assert.True(lastStatementMatch < firstSummaryMatch,
            $"A summary-only match (position {firstSummaryMatch}) came before a statement match (position {lastStatementMatch}).");
        // Claims logged meanwhile match only if they say it too; none that does not is listed.
        Assert.All(seen.Where(c => !inStatement.Contains(c.Id()) && !inSummary.Contains(c.Id())),
            c => Assert.Contains(c.Id(), written));
        Assert.NotEmpty(written);
    }

    private static ApiFactory WithRelevanceWindow(ApiFactory api, int window)
    {
        api.Settings["Search:RelevanceWindow"] = window.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return api;
    }

    /// <summary>
    /// Inserts <see cref="Stored"/> claims in one statement: six statuses, forty creation times,
    /// fifty update times and eight first-report days (one of them unknown), so that many claims
    /// share each sort key and pages end in the middle of a run of equal keys.
    /// </summary>
    private async Task StoreClaimsAsync(string tag)
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO claims (id, statement, summary, language, tags, first_reported_on, status, status_note, created_at, updated_at)
            SELECT gen_random_uuid(),
                   CASE WHEN i % 4 = 0 THEN format('North Korean soldiers sent to Russia have deserted, report %s.', i)
                        ELSE format('North Korean soldiers are training in Russia, report %s.', i) END,
                   CASE WHEN i % 4 = 1 THEN 'Suspilne and Hromadske later reported that some of them deserted.' END,
                   'en',
                   ARRAY[@tag, 'north-korea'],
                   CASE WHEN i % 8 = 0 THEN NULL ELSE date '2024-10-01' + (i % 8) END,
                   (@statuses::text[])[1 + i % 6],
                   CASE WHEN i % 6 >= 2 THEN 'Checked against Suspilne, Hromadske and Business Insider.' END,
                   now() - interval '2 days' - (i % 40) * interval '1 minute',
                   now() - interval '1 hour' - (i % 50) * interval '1 second'
            FROM generate_series(1, @count) AS i
            """, connection);
        insert.Parameters.AddWithValue("tag", tag);
        insert.Parameters.AddWithValue("statuses", Story.Statuses);
        insert.Parameters.AddWithValue("count", Stored);
        Assert.Equal(Stored, await insert.ExecuteNonQueryAsync());
    }

    private async Task<HashSet<Guid>> IdsAsync(string sql, string? tag = null)
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        if (tag is not null)
        {
            command.Parameters.AddWithValue("tag", tag);
        }

        var ids = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    /// <summary>
    /// Pages through the query, limit 50, while a second client logs claims. Before each page after
    /// the first it waits until at least one more claim has been written, so writes and pages interleave.
    /// </summary>
    private async Task<(List<JsonElement> Seen, List<Guid> Written)> PageWhileWritingAsync(string query, string tag)
    {
        await using var writer = new ConcurrentWriter(api.CreateClient(), tag);
        var pages = await _client.ReadPagesAsync($"/claims?{query}&limit={PageSize}", maxPages: 2000, writer.WaitForWriteAsync);
        return ([.. pages.SelectMany(Paging.Items)], await writer.StopAsync());
    }

    private static void AssertEachSeenOnce(IReadOnlySet<Guid> expected, List<JsonElement> seen)
    {
        var ids = seen.Select(c => c.Id()).ToList();
        var duplicates = ids.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, $"{duplicates.Count} claims listed twice, such as {string.Join(", ", duplicates.Take(5))}.");
        var missing = expected.Except(ids).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {expected.Count} claims never listed (saw {ids.Count}), such as {string.Join(", ", missing.Take(5))}.");
    }

    /// <summary>Each (sort key, id) is below the one before it, ids compared as PostgreSQL compares uuids.</summary>
    private static void AssertOrdered(List<JsonElement> seen, string sort)
    {
        Func<JsonElement, long> key = sort switch
        {
            "-createdAt" => c => c.GetProperty("createdAt").GetDateTimeOffset().UtcTicks,
            "-firstReportedOn" => c => c.GetProperty("firstReportedOn").ValueKind == JsonValueKind.Null
                ? DateOnly.MinValue.DayNumber
                : DateOnly.Parse(c.Str("firstReportedOn"), System.Globalization.CultureInfo.InvariantCulture).DayNumber,
            "-updatedAt" => c => c.GetProperty("updatedAt").GetDateTimeOffset().UtcTicks,
            _ => throw new ArgumentOutOfRangeException(nameof(sort), sort, null),
        };

        for (var i = 1; i < seen.Count; i++)
        {
            var (previous, current) = (seen[i - 1], seen[i]);
            var byKey = key(previous).CompareTo(key(current));
            var byId = string.CompareOrdinal(previous.Id().ToString(), current.Id().ToString());
            Assert.True(byKey > 0 || (byKey == 0 && byId > 0),
                $"Out of {sort} order at position {i}: {previous} then {current}.");
        }
    }

    private static string NewTag() => $"t{Guid.NewGuid():N}"[..12];

    /// <summary>Logs claims through the API, one after another, until stopped.</summary>
    private sealed class ConcurrentWriter : IAsyncDisposable
    {
        private readonly HttpClient _client;
        private readonly string _tag;
        private readonly CancellationTokenSource _stop = new();
        private readonly SemaphoreSlim _written = new(0);
        private readonly ConcurrentQueue<Guid> _created = new();
        private readonly Task _run;

        public ConcurrentWriter(HttpClient client, string tag)
        {
            _client = client;
            _tag = tag;
            _run = Task.Run(RunAsync);
        }

        /// <summary>Returns once a claim has been written since the last call, or throws what stopped the writer.</summary>
        public async Task WaitForWriteAsync()
        {
            await _written.WaitAsync();
            while (_written.Wait(0))
            {
            }

            if (_run.IsFaulted)
            {
                await _run;
            }
        }

        public async Task<List<Guid>> StopAsync()
        {
            await _stop.CancelAsync();
            await _run;
            return [.. _created];
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAny(_run);
            _stop.Dispose();
            _written.Dispose();
            _client.Dispose();
        }

        private async Task RunAsync()
        {
            try
            {
                for (var i = 0; !_stop.IsCancellationRequested; i++)
                {
                    // Keys that land inside the stored ranges as well as above them: the same days,
                    // unknown days, statements that match the search.
                    var response = await _client.PostAsJsonAsync("/claims", new
                    {
                        statement = i % 2 == 0
                            ? $"Hromadske: more North Korean soldiers deserted, report {i}."
                            : $"Bruce W. Bennett: families stay in Pyongyang as hostages, report {i}.",
                        language = "en",
                        tags = new[] { _tag, "north-korea" },
                        firstReportedOn = i % 3 == 0 ? null : $"2024-10-0{1 + i % 8}",
                    });
                    _created.Enqueue((await response.ReadJsonAsync(HttpStatusCode.Created)).Id());
                    _written.Release();
                }
            }
            finally
            {
                // Never leaves the pager waiting for a writer that has stopped.
                _written.Release(10_000);
            }
        }
    }
}
