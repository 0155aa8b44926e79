using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Claims.Tests.Infrastructure;
using CsvHelper;
using Npgsql;

namespace Claims.Tests;

/// <summary>
/// GET /claims, /sources and /evidence as CSV and NDJSON: every matching row in one streamed
/// answer, the same filters and validation as the JSON lists, and a client that leaves stops the
/// query. Each test scopes its rows by a tag (or source name) of its own.
/// </summary>
public sealed class ExportTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const string Ndjson = "application/x-ndjson";
    private const string Csv = "text/csv";

    // Commas, doubled quotes, a line break, Cyrillic and Korean: what RFC 4180 quoting must carry.
    private const string HardQuote = "Він сказав: \"Так, це правда\", and then,\r\nin Korean: \"북한군이 러시아에서\"";

    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task NdjsonGivesEachClaimAsGetClaimByIdDoesNewestChangedFirst()
    {
        var tag = NewTag();
        var source = await _client.SourceAsync("Suspilne " + tag, "outlet", "B");
        var other = await _client.SourceAsync("Hromadske " + tag, "outlet", "C");
        var first = await PostClaimAsync(Story.Training, tag, evidence: [Story.Evidence(source, "asserts", HardQuote, 2), Story.Evidence(other, "supports")]);
        var second = await PostClaimAsync(Story.UkrainianDesertion, tag, language: "uk");
        var third = await PostClaimAsync(Story.KoreanTraining, tag, language: "ko", evidence: [Story.Evidence(other, "refutes", null)]);
        await _client.SetStatusAsync(first, "in_review", "Asking Suspilne.");

        var lines = await LinesAsync($"/claims?tag={tag}");

        Assert.Equal([first, third, second], lines.Select(l => JsonDocument.Parse(l).RootElement.Id()));
        foreach (var line in lines)
        {
            // The claim as GET /claims/{id} gives it, with its externalId and its history beside it,
            // and without the origins, which are derived from relations when read.
            var node = JsonNode.Parse(line)!.AsObject();
            var id = Guid.Parse(node["id"]!.GetValue<string>());
            var history = node["history"];
            Assert.True(node.Remove("history") && node.Remove("externalId"), line);
            var read = JsonNode.Parse(await _client.GetStringAsync($"/claims/{id}"))!.AsObject();
            Assert.True(read.Remove("independentOrigins") && read.Remove("origins"));
            Assert.True(JsonNode.DeepEquals(read, node), line);
            var expected = (await _client.GetFromJsonAsync<JsonElement>($"/claims/{id}/history?limit=100")).GetProperty("items").GetRawText();
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), history), $"history of {id}:\n  export: {history?.ToJsonString()}\n  API:    {expected}");
        }

        Assert.Equal(2, JsonDocument.Parse(lines[0]).RootElement.GetProperty("evidence").GetArrayLength());
        Assert.Equal(0, JsonDocument.Parse(lines[2]).RootElement.GetProperty("evidence").GetArrayLength());
    }

    [Theory]
    [InlineData("status=in_review")]
    [InlineData("language=uk")]
    [InlineData("q=deserted")]
    [InlineData("status=unverified&language=en&q=soldiers")]
    public async Task ExportsApplyTheFiltersOfTheJsonList(string filter)
    {
        var tag = NewTag();
        var reviewed = await PostClaimAsync(Story.Deserted, tag);
        await PostClaimAsync(Story.Training, tag);
        await PostClaimAsync(Story.UkrainianDesertion, tag, language: "uk");
        await PostClaimAsync(Story.Bennett, tag);
        await _client.SetStatusAsync(reviewed, "in_review", null);
        var page = await _client.GetFromJsonAsync<JsonElement>($"/claims?tag={tag}&{filter}&sort=-updatedAt&limit=200");
        var expected = page.GetProperty("items").EnumerateArray().Select(c => c.Id()).ToList();
        Assert.NotEmpty(expected);

        var lines = await LinesAsync($"/claims?tag={tag}&{filter}");
        var (header, records) = await CsvAsync($"/claims?tag={tag}&{filter}");

        Assert.Equal(expected, lines.Select(l => JsonDocument.Parse(l).RootElement.Id()));
        Assert.Equal(expected, records.Select(r => Guid.Parse(r[0])));
        Assert.Equal("id", header[0]);
    }

    [Fact]
    public async Task EveryMatchingClaimComesInOneAnswerFarPastAPage()
    {
        const int count = 450;
        var tag = NewTag();
        await InsertClaimsAsync(tag, count, noteLength: 10);
        var newestFirst = await IdsAsync("SELECT id FROM claims WHERE @tag = ANY(tags) ORDER BY updated_at DESC, id DESC", tag);

        var lines = await LinesAsync($"/claims?tag={tag}");
        var (_, records) = await CsvAsync($"/claims?tag={tag}");

        Assert.Equal(count, newestFirst.Count);
        Assert.Equal(newestFirst, lines.Select(l => JsonDocument.Parse(l).RootElement.Id()));
        Assert.Equal(newestFirst, records.Select(r => Guid.Parse(r[0])));
    }

    [Fact]
    public async Task CsvOfClaimsParsesBackWithItsHeaderQuotesLineBreaksAndScripts()
    {
        var tag = NewTag();
        var id = await PostClaimAsync(HardQuote, tag, language: "uk", summary: "Korean: 러시아, Russian: \"дезертиры\"", extraTag: "north-korea");
        await _client.SetStatusAsync(id, "in_review", "Line one,\nline \"two\".");
        var claim = await _client.GetFromJsonAsync<JsonElement>($"/claims/{id}");

        using var response = await ExportAsync($"/claims?tag={tag}", Csv);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var (header, records) = await ParseCsvAsync(bytes);

        Assert.Equal("text/csv; charset=utf-8; header=present", response.Content.Headers.ContentType!.ToString());
        Assert.Equal(
            ["id", "statement", "summary", "language", "tags", "firstReportedOn", "status", "statusNote", "createdAt", "updatedAt", "version", "createdBy", "externalId"],
            header);
        var record = Assert.Single(records);
        Assert.Equal(
            [id.ToString(), HardQuote, "Korean: 러시아, Russian: \"дезертиры\"", "uk", $"{tag};north-korea", "2024-10-23", "in_review", "Line one,\nline \"two\".",
             claim.Str("createdAt"), claim.Str("updatedAt"), claim.GetProperty("version").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture),
             claim.Str("createdBy"), ""],
            record);
        // RFC 4180: the header and every record end with CRLF, and no byte order mark comes first.
        var text = Encoding.UTF8.GetString(bytes);
        Assert.StartsWith("id,statement,summary,language,tags,firstReportedOn,status,statusNote,createdAt,updatedAt,version,createdBy,externalId\r\n", text, StringComparison.Ordinal);
        Assert.EndsWith("\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\"Він сказав: \"\"Так, це правда\"\", and then,\r\nin Korean: \"\"북한군이 러시아에서\"\"\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SourcesExportAsCsvAndNdjsonWithTheirFilters()
    {
        var tag = NewTag();
        var outlet = await _client.SourceAsync($"Суспільне {tag}, \"news\"", "outlet", "B");
        var person = await _client.SourceAsync($"Lloyd Austin {tag}", "person", "A");
        var older = await _client.SourceAsync($"Hromadske {tag}", "outlet", "C");

        var lines = await LinesAsync($"/sources?q={tag}&kind=outlet");
        var (header, records) = await CsvAsync($"/sources?q={tag}");

        Assert.Equal([older, outlet], lines.Select(l => JsonDocument.Parse(l).RootElement.Id()));
        foreach (var line in lines)
        {
            Assert.Equal(await _client.GetStringAsync($"/sources/{JsonDocument.Parse(line).RootElement.Id()}"), line);
        }

        Assert.Equal(["id", "name", "kind", "description", "url", "reliability", "createdAt", "updatedAt", "version", "createdBy"], header);
        Assert.Equal([older, person, outlet], records.Select(r => Guid.Parse(r[0])));
        Assert.Equal([$"Суспільне {tag}, \"news\"", "outlet", "US Secretary of Defense.", "", "B"], records[2][1..6]);
    }

    [Fact]
    public async Task EvidenceExportsTheLinksOfTheMatchingClaims()
    {
        var tag = NewTag();
        var suspilne = await _client.SourceAsync($"Суспільне {tag}", "outlet", "B");
        var austin = await _client.SourceAsync($"Lloyd Austin {tag}", "person", "A");
        var first = await PostClaimAsync(Story.Training, tag, evidence: [Story.Evidence(austin, "asserts", HardQuote, 2), Story.Evidence(suspilne, "supports")]);
        var second = await PostClaimAsync(Story.Deserted, tag, evidence: [Story.Evidence(suspilne, "refutes", null)]);
        await PostClaimAsync(Story.Bennett, tag);
        var firstClaim = await _client.GetFromJsonAsync<JsonElement>($"/claims/{first}");
        var secondClaim = await _client.GetFromJsonAsync<JsonElement>($"/claims/{second}");
        var items = secondClaim.GetProperty("evidence").EnumerateArray().Concat(firstClaim.GetProperty("evidence").EnumerateArray()).ToList();

        var lines = await LinesAsync($"/evidence?tag={tag}");
        var (header, records) = await CsvAsync($"/evidence?tag={tag}");
        var (_, suspilneOnly) = await CsvAsync($"/evidence?tag={tag}&sourceId={suspilne}");

        Assert.Equal(items.Select(i => i.GetRawText()), lines);
        Assert.Equal(["id", "claimId", "sourceId", "sourceName", "stance", "quote", "url", "publishedAt", "credibility", "note", "createdAt"], header);
        Assert.Equal(items.Select(i => i.Id()), records.Select(r => Guid.Parse(r[0])));
        var hard = records[1];
        Assert.Equal([first.ToString(), austin.ToString(), $"Lloyd Austin {tag}", "asserts", HardQuote, "", "", "2", ""], hard[1..10]);
        Assert.Equal(items[1].Str("createdAt"), hard[10]);
        Assert.Equal([second, first], suspilneOnly.Select(r => Guid.Parse(r[1])));
        Assert.All(suspilneOnly, r => Assert.Equal(suspilne.ToString(), r[2]));
    }

    [Fact]
    public async Task BadFiltersAndPagingAreRefusedAsProblemsWhateverTheAcceptHeader()
    {
        using var badStatus = await ExportAsync("/claims?status=maybe", Csv, expectOk: false);
        using var limit = await ExportAsync("/claims?limit=10", Ndjson, expectOk: false);
        using var relevance = await ExportAsync("/claims?q=soldiers&sort=relevance", Csv, expectOk: false);
        using var sourceCursor = await ExportAsync("/sources?cursor=abc", Csv, expectOk: false);
        using var evidenceAsJson = await ExportAsync("/evidence", "application/json", expectOk: false);

        Assert.Contains("in_review", (await badStatus.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors("status[0]")[0], StringComparison.Ordinal);
        Assert.Contains("every matching row", (await limit.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors("limit")[0], StringComparison.Ordinal);
        Assert.Contains("not ranked", (await relevance.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors("sort")[0], StringComparison.Ordinal);
        Assert.Contains("every matching row", (await sourceCursor.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors("cursor")[0], StringComparison.Ordinal);
        var notAcceptable = await evidenceAsJson.ReadProblemAsync(HttpStatusCode.NotAcceptable);
        Assert.Equal("/problems/not-acceptable", notAcceptable.Str("type"));
        Assert.Contains("text/csv", notAcceptable.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheJsonListStaysAPageWhenJsonIsPreferred()
    {
        var tag = NewTag();
        var id = await PostClaimAsync(Story.Training, tag);

        using var response = await ExportAsync($"/claims?tag={tag}&limit=1", "application/json, text/csv;q=0.5");
        var page = await response.ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(id, Assert.Single(page.GetProperty("items").EnumerateArray()).Id());
        Assert.Contains("Accept", response.Headers.Vary);
    }

    [Fact]
    public async Task TheDocumentDeclaresTheExportMediaTypes()
    {
        var document = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var paths = document.GetProperty("paths");

        foreach (var path in new[] { "/claims", "/sources", "/evidence" })
        {
            var content = paths.GetProperty(path).GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content");
            Assert.True(content.TryGetProperty(Csv, out _), $"{path} does not declare {Csv}: {content}");
            Assert.True(content.TryGetProperty(Ndjson, out _), $"{path} does not declare {Ndjson}: {content}");
            Assert.Equal(path != "/evidence", content.TryGetProperty("application/json", out _));
        }
    }

    [Fact]
    public async Task AClientThatLeavesStopsTheQuery()
    {
        // Far more than the sockets between PostgreSQL and the API hold (several megabytes), so
        // that the statement is still sending when the client stops reading.
        var tag = NewTag();
        await InsertClaimsAsync(tag, 20_000, noteLength: 1900);
        var rollbacksBefore = await RollbacksAsync(above: null);
        using var cancel = new CancellationTokenSource();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/claims?tag={tag}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(Ndjson));
        var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        var body = await response.Content.ReadAsStreamAsync(cancel.Token);
        var first = new byte[1024];
        Assert.True(await body.ReadAsync(first, cancel.Token) > 0);
        Assert.True(await ExportRunningAsync(expected: true), "The export's statement was not running after the first bytes.");

        await cancel.CancelAsync();
        await body.DisposeAsync();
        response.Dispose();

        Assert.True(await ExportRunningAsync(expected: false), "The export's statement still ran 10 s after the client left.");
        // Cancelled, not read to its end: closing a reader reads its remaining rows, which would
        // end the statement as surely, after all of them, and commit. A cancelled one rolls back.
        Assert.True(await RollbacksAsync(above: rollbacksBefore) > rollbacksBefore, "The export's statement ended without being cancelled.");
    }

    /// <summary>
    /// How many transactions of this database have rolled back, as PostgreSQL's statistics count
    /// them; with <paramref name="above"/>, once the count is higher (a backend reports its counts
    /// when it goes idle, within seconds), waiting at most 20 s.
    /// </summary>
    private async Task<long> RollbacksAsync(long? above)
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        long rollbacks = 0;
        for (var attempt = 0; attempt < 200; attempt++)
        {
            await using var command = new NpgsqlCommand(
                """
                SELECT pg_stat_clear_snapshot();
                SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database();
                """, connection);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.NextResultAsync();
            await reader.ReadAsync();
            rollbacks = reader.GetInt64(0);
            if (above is null || rollbacks > above)
            {
                return rollbacks;
            }

            await Task.Delay(100);
        }

        return rollbacks;
    }

    /// <summary>Waits, at most 10 s, until the claims export's statement is running (or none is); whether it came to that.</summary>
    // By a part of the claims export's statement within the first 1,024 bytes that
    // pg_stat_activity keeps of a query (track_activity_query_size).
    private async Task<bool> ExportRunningAsync(bool expected)
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            await using var command = new NpgsqlCommand(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE '%FROM claim_status_changes h WHERE h.claim_id = c.id%'
                  AND datname = current_database()
                """, connection);
            var running = (long)(await command.ExecuteScalarAsync())! > 0;
            if (running == expected)
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    private async Task<Guid> PostClaimAsync(string statement, string tag, string language = "en", object[]? evidence = null, string? summary = null, string? extraTag = null)
    {
        var response = await _client.PostAsJsonAsync("/claims", new
        {
            statement,
            summary,
            language,
            tags = extraTag is null ? new[] { tag } : [tag, extraTag],
            firstReportedOn = "2024-10-23",
            evidence = evidence ?? [],
        });
        return (await response.ReadJsonAsync(HttpStatusCode.Created)).Id();
    }

    private async Task<HttpResponseMessage> ExportAsync(string url, string accept, bool expectOk = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        var response = await _client.SendAsync(request);
        if (expectOk)
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url} as {accept}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        return response;
    }

    private async Task<List<string>> LinesAsync(string url)
    {
        using var response = await ExportAsync(url, Ndjson);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType!.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(text.Length == 0 || text.EndsWith('\n'), "The last line has no line feed.");
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    private async Task<(string[] Header, List<string[]> Records)> CsvAsync(string url)
    {
        using var response = await ExportAsync(url, Csv);
        return await ParseCsvAsync(await response.Content.ReadAsByteArrayAsync());
    }

    private static async Task<(string[] Header, List<string[]> Records)> ParseCsvAsync(byte[] bytes)
    {
        await using var reader = CsvReader.Create(bytes);
        var records = new List<string[]>();
        while (await reader.ReadAsync())
        {
            records.Add([.. Enumerable.Range(0, reader.FieldCount).Select(reader.GetString)]);
        }

        return ([.. reader.Headers], records);
    }

    private async Task InsertClaimsAsync(string tag, int count, int noteLength)
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO claims (id, statement, language, tags, status, status_note, created_at, updated_at)
            SELECT gen_random_uuid(), format('North Korean soldiers are training in Russia, report %s.', i), 'en', ARRAY[@tag],
                   'in_review', repeat('n', @noteLength), now() - i * interval '1 second', now() - (i % 97) * interval '1 second'
            FROM generate_series(1, @count) AS i
            """, connection);
        insert.Parameters.AddWithValue("tag", tag);
        insert.Parameters.AddWithValue("count", count);
        insert.Parameters.AddWithValue("noteLength", noteLength);
        Assert.Equal(count, await insert.ExecuteNonQueryAsync());
    }

    private async Task<List<Guid>> IdsAsync(string sql, string tag)
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("tag", tag);
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    private static string NewTag() => "export-" + Guid.NewGuid().ToString("N")[..10];
}
