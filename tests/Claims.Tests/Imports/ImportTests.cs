using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Claims.Tests.Infrastructure;
using Npgsql;

namespace Claims.Tests;

/// <summary>
/// POST /imports and GET /imports/{id}: NDJSON as the export writes it, CSV as a spreadsheet
/// writes it, a report per line, and nothing written twice. Each test scopes its claims by a tag
/// (or externalIds) of its own; the round trip imports into a database of its own.
/// </summary>
public sealed class ImportTests(ImportTests.SeededApi api) : IClassFixture<ImportTests.SeededApi>
{
    private const string Ndjson = "application/x-ndjson";
    private const string Csv = "text/csv";

    // Commas, doubled quotes and a line break inside one quoted CSV field, as a spreadsheet writes them.
    private const string HardQuote = "He said: \"Yes, they left\", and then,\nthey were gone.";

    private readonly HttpClient _client = api.CreateClient();

    /// <summary>The app on a database that holds the seed story, with small batches so that a file of a few hundred lines spans several.</summary>
    public sealed class SeededApi : IAsyncLifetime
    {
        private readonly ApiFactory _factory = new();

        public string ConnectionString => _factory.ConnectionString;

        public HttpClient CreateClient(string? key = null) => key is null ? _factory.CreateClient() : _factory.CreateClient(key);

        public async Task InitializeAsync()
        {
            _factory.Settings["Database:SeedWhenEmpty"] = "true";
            _factory.Settings["Imports:BatchLines"] = "50";
            _factory.Settings["Imports:MaxRejected"] = "1500";
            await ((IAsyncLifetime)_factory).InitializeAsync();
        }

        public Task DisposeAsync() => ((IAsyncLifetime)_factory).DisposeAsync();
    }

    [Fact]
    public async Task AnNdjsonExportImportedIntoAnEmptyDatabaseExportsAgainIdentically()
    {
        // The seed story, and claims in every status with evidence, in three languages.
        var tag = NewTag();
        var source = await _client.SourceAsync("Suspilne " + tag, "outlet", "B");
        var refuter = await _client.SourceAsync("Міністерство оборони " + tag, "government", "C");
        for (var i = 0; i < 12; i++)
        {
            var statement = (i % 3) switch { 0 => Story.Deserted, 1 => Story.UkrainianDesertion, _ => Story.KoreanTraining } + $" ({tag} {i})";
            var response = await _client.PostAsJsonAsync("/claims", new
            {
                statement,
                language = (i % 3) switch { 0 => "en", 1 => "uk", _ => "ko" },
                tags = new[] { tag },
                evidence = new[] { Story.Evidence(source, "supports", HardQuote, 2), Story.Evidence(refuter, "refutes", "Ні, це неправда.") },
            });
            var id = (await response.ReadJsonAsync(HttpStatusCode.Created)).Id();
            var status = Story.Statuses[i % Story.Statuses.Length];
            if (status != "unverified")
            {
                await _client.SetStatusAsync(id, "in_review", "Checking.");
                if (status != "in_review")
                {
                    await _client.SetStatusAsync(id, status, $"Because of {tag}.");
                }
            }
        }

        var exported = await ExportAsync(_client);
        Assert.True(exported.Count >= 12 + 5, $"The export has {exported.Count} claims: the seed story's and the test's were expected.");

        await using var empty = new ApiFactory();
        await ((IAsyncLifetime)empty).InitializeAsync();
        try
        {
            using var target = empty.CreateClient();
            var job = await ImportAsync(target, string.Join("\n", exported) + "\n", Ndjson);

            Assert.Equal("done", job.Str("state"));
            Assert.Equal(exported.Count, job.GetProperty("written").GetInt32());
            Assert.Equal(0, job.GetProperty("rejected").GetInt32());
            Assert.Empty(job.GetProperty("errors").EnumerateArray());
            Assert.Equal(exported, await ExportAsync(target));
        }
        finally
        {
            await ((IAsyncLifetime)empty).DisposeAsync();
        }
    }

    [Fact]
    public async Task ACsvWithGoodAndBadRowsWritesExactlyTheGoodOnesAndNamesEachBadRowsLineAndColumn()
    {
        var tag = NewTag();
        var csv = Spreadsheet(tag);

        var job = await ImportAsync(_client, csv, Csv);

        Assert.Equal("done", job.Str("state"));
        Assert.Equal(3, job.GetProperty("written").GetInt32());
        Assert.Equal(3, job.GetProperty("rejected").GetInt32());
        Assert.Equal(
            [(5, "statement"), (6, "stance"), (7, "firstReportedOn")],
            job.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("line").GetInt32(), e.Str("field"))));
        Assert.Contains("'denies'", job.GetProperty("errors")[1].Str("message"), StringComparison.Ordinal);

        var claims = await ClaimsTaggedAsync(tag);
        Assert.Equal(
            [$"Північнокорейські військові дезертирували ({tag}).", $"Hromadske counted 18 desertions ({tag}).", $"North Korean soldiers are training in Russia ({tag})."],
            claims.Select(c => c.Str("statement")));
        var training = await _client.GetFromJsonAsync<JsonElement>($"/claims/{claims[2].Id()}");
        var evidence = training.GetProperty("evidence").EnumerateArray().ToList();
        Assert.Equal(["Суспільне " + tag, "Lloyd Austin " + tag], evidence.Select(e => e.GetProperty("source").Str("name")));
        Assert.Equal(HardQuote, evidence[0].Str("quote"));
        Assert.Equal("asserts", evidence[0].Str("stance"));
        Assert.Equal("B", evidence[0].GetProperty("source").Str("reliability"));
        Assert.Equal(["north-korea", "russia"], training.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).Where(t => t != tag));
        Assert.Equal(2, job.GetProperty("sourcesCreated").GetInt32());
    }

    [Fact]
    public async Task ImportingTheSameFileTwiceChangesNothingAndReportsEveryClaimUnchanged()
    {
        var tag = NewTag();
        var csv = Spreadsheet(tag);
        var first = await ImportAsync(_client, csv, Csv);
        var before = await CountsAsync(tag);

        var second = await ImportAsync(_client, csv, Csv);

        Assert.Equal(3, first.GetProperty("written").GetInt32());
        Assert.Equal(0, second.GetProperty("written").GetInt32());
        Assert.Equal(3, second.GetProperty("unchanged").GetInt32());
        Assert.Equal(0, second.GetProperty("sourcesCreated").GetInt32());
        Assert.Equal(
            (await ClaimsTaggedAsync(tag)).Select(c => c.Id()).Order(),
            second.GetProperty("unchangedLines").EnumerateArray().Select(l => l.GetProperty("claimId").GetGuid()).Order());
        Assert.Equal(before, await CountsAsync(tag));
    }

    [Fact]
    public async Task AClaimsExternalIdComesBackInTheCsvExport()
    {
        var tag = NewTag();
        var job = await ImportAsync(_client, $"externalId,statement,tags\n{tag}-1,Soldiers were seen near Kursk.,{tag}\n", Csv);
        Assert.Equal("done", job.Str("state"));

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/claims?tag={tag}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(Csv));
        var lines = (await (await _client.SendAsync(request)).Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.EndsWith(",externalId", lines[0], StringComparison.Ordinal);
        Assert.EndsWith($",{tag}-1", Assert.Single(lines[1..]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFileFarLargerThanTheBodyLimitOfOtherRequestsIsImportedWhole()
    {
        // About 600 KB declared by Content-Length, where every other endpoint refuses more than 256 KB.
        const int rows = 1500;
        var tag = NewTag();
        var csv = new StringBuilder("externalId,statement,summary,tags\n");
        for (var i = 0; i < rows; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{tag}-{i},Soldiers were seen near Kursk (report {i}).,{new string('x', 380)},{tag}\n");
        }

        Assert.True(Encoding.UTF8.GetByteCount(csv.ToString()) > 512 * 1024);

        var job = await ImportAsync(_client, csv.ToString(), Csv);

        Assert.Equal("done", job.Str("state"));
        Assert.Equal(rows, job.GetProperty("written").GetInt32());
        Assert.Equal(rows + 1, job.GetProperty("settledThrough").GetInt32());
        Assert.Equal((long)rows, (await CountsAsync(tag)).Claims);
        // The indexes queued entries while it ran (PendingLists); once done they are merged and searches read none.
        Assert.Equal(2L, await ScalarAsync(
            "SELECT count(*) FROM pg_class WHERE relname IN ('claims_statement_trgm_idx', 'claims_search_vector_idx') AND reloptions = '{fastupdate=off}'"));
        var found = await _client.GetFromJsonAsync<JsonElement>($"/claims?q=Kursk&tag={tag}&limit=5");
        Assert.Equal(5, found.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task AnUnclosedQuoteStopsTheJobAtItsRecordWithTheClaimsCompleteBeforeItWritten()
    {
        // The quote never closes, so the record would run to the end of the file: refused past 256 KB.
        // Sixty claims come first; the last of them might go on in the bad record, so it is not written.
        var tag = NewTag();
        var csv = new StringBuilder("externalId,statement,tags\n");
        for (var i = 1; i <= 60; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{tag}-{i},Soldiers were seen near Kursk (report {i}).,{tag}\n");
        }

        csv.Append(CultureInfo.InvariantCulture, $"{tag}-61,\"Never closed,{tag}\n").Append(string.Concat(Enumerable.Repeat("more text, on and on\n", 20_000)));

        var job = await ImportAsync(_client, csv.ToString(), Csv);

        Assert.Equal("failed", job.Str("state"));
        Assert.Contains("could not be read past", job.Str("failure"), StringComparison.Ordinal);
        Assert.Equal(59, job.GetProperty("written").GetInt32());
        Assert.Equal(60, job.GetProperty("settledThrough").GetInt32());
        Assert.Equal(59, (await ClaimsTaggedAsync(tag)).Count);
    }

    [Fact]
    public async Task ADryRunReportsWhatItWouldDoAndWritesNothing()
    {
        var tag = NewTag();

        var job = await ImportAsync(_client, Spreadsheet(tag), Csv, "?dryRun=true");

        Assert.True(job.GetProperty("dryRun").GetBoolean());
        Assert.Equal(3, job.GetProperty("written").GetInt32());
        Assert.Equal(3, job.GetProperty("rejected").GetInt32());
        Assert.Equal(2, job.GetProperty("sourcesCreated").GetInt32());
        Assert.Equal((0L, 0L), await CountsAsync(tag));
    }

    [Fact]
    public async Task NdjsonLinesAreCheckedWithTheApisRulesAndReportedByJsonPath()
    {
        var tag = NewTag();
        var lines = string.Join("\n",
            Line(new { externalId = tag + "-1", statement = "Soldiers were seen near Kursk.", tags = new[] { tag }, evidence = new[] { new { source = new { name = "Reuters " + tag, kind = "outlet" }, stance = "supports" } } }),
            Line(new { externalId = tag + "-2", statement = "", tags = new[] { tag } }),
            Line(new { externalId = tag + "-3", statement = "Confirmed without support.", tags = new[] { tag }, status = "confirmed", statusNote = "Sure." }),
            "{\"statement\": \"Not JSON",
            "",
            Line(new { externalId = tag + "-4", statement = "A stance that is not one.", tags = new[] { tag }, evidence = new[] { new { source = new { name = "AP " + tag, kind = "outlet" }, stance = "maybe" } } }),
            Line(new { externalId = tag + "-5", statement = "A source by an id nobody has.", tags = new[] { tag }, evidence = new[] { new { sourceId = Guid.NewGuid(), stance = "supports" } } }));

        var job = await ImportAsync(_client, lines, Ndjson);

        Assert.True(1 == job.GetProperty("written").GetInt32(), job.GetRawText());
        Assert.Equal(5, job.GetProperty("rejected").GetInt32());
        var errors = job.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("line").GetInt32(), e.GetProperty("field").GetString())).ToList();
        Assert.Equal([(2, "statement"), (3, "status"), (4, null), (6, "evidence[0].stance"), (7, "evidence[0].sourceId")], errors);
    }

    [Fact]
    public async Task SourcesAreMatchedByNameInAnyCaseAndKindBeforeAnyIsCreated()
    {
        var tag = NewTag();
        var existing = await _client.SourceAsync("Hromadske " + tag, "outlet", "C");
        var csv = $"statement,tags,sourceName,sourceKind,stance\n\"Desertions were counted ({tag}).\",{tag},HROMADSKE {tag.ToUpperInvariant()},outlet,supports\n"
            + $"\"Another claim ({tag}).\",{tag},Hromadske {tag},person,mentions\n";

        var job = await ImportAsync(_client, csv, Csv);

        Assert.Equal(2, job.GetProperty("written").GetInt32());
        Assert.Equal(1, job.GetProperty("sourcesCreated").GetInt32());
        var claims = await ClaimsTaggedAsync(tag);
        var counted = await _client.GetFromJsonAsync<JsonElement>($"/claims/{claims.Single(c => c.Str("statement").StartsWith("Desertions", StringComparison.Ordinal)).Id()}");
        Assert.Equal(existing, counted.GetProperty("evidence")[0].GetProperty("source").Id());
    }

    [Fact]
    public async Task ABodyThatIsNeitherNdjsonNorCsvIs415AndACsvWithAnUnknownColumnIs400AndMakesNoJob()
    {
        var jobsBefore = await ScalarAsync("SELECT count(*) FROM imports");

        var json = await (await _client.PostRawAsync("/imports", "{}")).ReadProblemAsync(HttpStatusCode.UnsupportedMediaType);
        var unknown = await (await _client.PostRawAsync("/imports", "statement,verdict\nA claim.,true\n", Csv)).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal("/problems/unsupported-media-type", json.Str("type"));
        Assert.Contains("Unknown column 'verdict'", Assert.Single(unknown.Errors("body")), StringComparison.Ordinal);
        var unreadable = await (await _client.PostRawAsync("/imports", "\"statement" + new string('x', 300 * 1024), Csv)).ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("header row could not be read", Assert.Single(unreadable.Errors("body")), StringComparison.Ordinal);
        Assert.Equal(jobsBefore, await ScalarAsync("SELECT count(*) FROM imports"));
    }

    [Fact]
    public async Task AJobLeftRunningByAProcessThatStoppedIsReportedFailedWithWhereItStopped()
    {
        // As a process that died mid-import leaves its job: running, silent for two minutes; and one still beating.
        var dead = Guid.NewGuid();
        var alive = Guid.NewGuid();
        await ScalarAsync($"""
            INSERT INTO imports (id, format, dry_run, created_by, started_at, updated_at, lines_read, settled_through, created)
            VALUES ('{dead}', 'csv', false, 'admin', now() - interval '5 minutes', now() - interval '2 minutes', 60, 40, 39),
                   ('{alive}', 'csv', false, 'admin', now() - interval '5 minutes', now() - interval '5 seconds', 60, 40, 39)
            RETURNING 0
            """);

        JsonElement stopped, running;
        try
        {
            stopped = await _client.GetFromJsonAsync<JsonElement>($"/imports/{dead}");
            running = await _client.GetFromJsonAsync<JsonElement>($"/imports/{alive}");
        }
        finally
        {
            // A running job keeps the indexes' pending lists on at the end of the other tests' imports.
            await ScalarAsync($"WITH gone AS (DELETE FROM imports WHERE id IN ('{dead}', '{alive}') RETURNING 1) SELECT count(*) FROM gone");
        }

        Assert.Equal("failed", stopped.Str("state"));
        Assert.Contains("not been heard from", stopped.Str("failure"), StringComparison.Ordinal);
        Assert.Contains("up to 40", stopped.Str("failure"), StringComparison.Ordinal);
        Assert.Equal("running", running.Str("state"));
        Assert.Equal(JsonValueKind.Null, running.GetProperty("failure").ValueKind);
    }

    [Fact]
    public async Task AReporterMayNotImportAndAnUnknownJobIs404()
    {
        var reporterKey = await CreateKeyAsync("reporter");
        using var reporter = api.CreateClient(reporterKey);

        var refused = await (await reporter.PostRawAsync("/imports", "statement\nA claim.\n", Csv)).ReadProblemAsync(HttpStatusCode.Forbidden);
        var missing = await (await _client.GetAsync($"/imports/{Guid.NewGuid()}")).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal("/problems/forbidden", refused.Str("type"));
        Assert.Equal("/problems/not-found", missing.Str("type"));
    }

    /// <summary>
    /// The spreadsheet of the CSV tests: a claim with two source rows (a Cyrillic source name, a
    /// quote with commas, quotes and a line break), a claim without a source, a Ukrainian claim,
    /// and three bad rows: a missing statement, an unknown stance, a bad date.
    /// </summary>
    [Fact]
    public async Task HostileLinesAreRejectedAloneAndTheLinesAroundThemWritten()
    {
        var tag = NewTag();
        var lines = string.Join("\n",
            "\uFEFF" + Line(new { externalId = $"{tag}-1", statement = $"A file saved with a byte order mark ({tag}).", tags = new[] { tag } }),
            Line(new { externalId = $"{tag}-2", statement = $"A NUL in who logged it ({tag}).", tags = new[] { tag }, createdBy = "a\0b" }),
            Line(new { externalId = $"{tag}-3", statement = $"A NUL in the history ({tag}).", tags = new[] { tag }, history = new[] { new { toStatus = "unverified", note = "x\0y" } } }),
            Line(new { externalId = $"{tag}-4", statement = $"Logged in year one ({tag}).", tags = new[] { tag }, createdAt = "0001-01-01T00:00:00Z" }),
            Line(new { externalId = $"{tag}\0-5", statement = $"A NUL in the key ({tag}).", tags = new[] { tag } }),
            Line(new { externalId = $"{tag}-6", statement = $"An ordinary line after them ({tag}).", tags = new[] { tag } }));

        var job = await ImportAsync(_client, lines, Ndjson);

        Assert.True(job.Str("state") == "done", job.GetRawText());
        Assert.Equal(2, job.GetProperty("written").GetInt32());
        var errors = job.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("line").GetInt32(), e.GetProperty("field").GetString(), e.Str("message"))).ToList();
        Assert.Equal([(2, "createdBy"), (3, "history[0].note"), (4, "createdAt"), (5, "externalId")], errors.Select(e => (e.Item1, e.Item2)));
        Assert.Contains("NUL", errors[0].Item3, StringComparison.Ordinal);
        Assert.StartsWith("Must be between 1900-01-01", errors[2].Item3, StringComparison.Ordinal);
        Assert.Equal([$"An ordinary line after them ({tag}).", $"A file saved with a byte order mark ({tag})."], (await ClaimsTaggedAsync(tag)).Select(c => c.Str("statement")));
    }

    [Fact]
    public async Task ASourceAnImportCreatesKeepsItsExternalIdAndTheNextImportFindsItByThatAlone()
    {
        var tag = NewTag();
        var first = Line(new
        {
            externalId = $"{tag}-1", statement = $"Soldiers left their units ({tag}).", tags = new[] { tag },
            evidence = new[] { new { source = new { externalId = $"{tag}-suspilne", name = $"Suspilne {tag}", kind = "outlet", reliability = "B" }, stance = "asserts" } },
        });
        var second = Line(new
        {
            externalId = $"{tag}-2", statement = $"Soldiers were moved to Kursk ({tag}).", tags = new[] { tag },
            evidence = new[] { new { source = new { externalId = $"{tag}-suspilne" }, stance = "mentions" } },
        });

        var created = await ImportAsync(_client, first, Ndjson);
        var found = await ImportAsync(_client, second, Ndjson);

        Assert.Equal((1, 1), (created.GetProperty("written").GetInt32(), created.GetProperty("sourcesCreated").GetInt32()));
        Assert.True(found.GetProperty("written").GetInt32() == 1, found.GetRawText());
        Assert.Equal(0, found.GetProperty("sourcesCreated").GetInt32());
        Assert.Equal(1L, await ScalarAsync($"SELECT count(*) FROM sources WHERE external_id = '{tag}-suspilne' AND name = 'Suspilne {tag}'"));
        Assert.Equal(2L, await ScalarAsync(
            $"SELECT count(*) FROM evidence e JOIN sources s ON s.id = e.source_id JOIN claims c ON c.id = e.claim_id WHERE s.external_id = '{tag}-suspilne' AND '{tag}' = ANY(c.tags)"));
    }

    [Fact]
    public async Task ARejectedLineCreatesNoneOfItsSources()
    {
        var tag = NewTag();
        var lines = string.Join("\n",
            Line(new
            {
                externalId = $"{tag}-1", statement = $"One source new, one unknown ({tag}).", tags = new[] { tag },
                evidence = new object[] { new { source = new { name = $"Kyiv Independent {tag}", kind = "outlet" }, stance = "asserts" }, new { sourceId = Guid.NewGuid(), stance = "supports" } },
            }),
            Line(new
            {
                externalId = $"{tag}-2", statement = $"A source of its own ({tag}).", tags = new[] { tag },
                evidence = new[] { new { source = new { name = $"Hromadske {tag}", kind = "outlet" }, stance = "asserts" } },
            }));

        var job = await ImportAsync(_client, lines, Ndjson);

        Assert.Equal((1, 1, 1), (job.GetProperty("written").GetInt32(), job.GetProperty("rejected").GetInt32(), job.GetProperty("sourcesCreated").GetInt32()));
        Assert.Equal("evidence[1].sourceId", job.GetProperty("errors")[0].Str("field"));
        Assert.Equal(0L, await ScalarAsync($"SELECT count(*) FROM sources WHERE name = 'Kyiv Independent {tag}'"));
        Assert.Equal(1L, await ScalarAsync($"SELECT count(*) FROM sources WHERE name = 'Hromadske {tag}'"));
    }

    [Fact]
    public async Task AChainIsImportedWithItsSourcesFoundOrCreatedAndAnUnknownIdInItRejectsTheLine()
    {
        var tag = NewTag();
        var suspilne = await _client.SourceAsync($"Suspilne {tag}", "outlet", "C");
        var lines = string.Join("\n",
            Line(new
            {
                externalId = $"{tag}-1", statement = $"Soldiers deserted ({tag}).", tags = new[] { tag },
                evidence = new[]
                {
                    new
                    {
                        source = new { name = $"Business Insider {tag}", kind = "outlet" }, stance = "mentions",
                        via = new object[] { new { id = suspilne }, new { name = $"Anonymous military sources {tag}", kind = "anonymous", reliability = "F" } },
                    },
                },
            }),
            Line(new
            {
                externalId = $"{tag}-2", statement = $"Soldiers were caught ({tag}).", tags = new[] { tag },
                evidence = new[] { new { sourceId = suspilne, stance = "asserts", viaSourceIds = new[] { Guid.Empty } } },
            }),
            Line(new
            {
                externalId = $"{tag}-3", statement = $"Soldiers were sent home ({tag}).", tags = new[] { tag },
                evidence = new[] { new { sourceId = suspilne, stance = "asserts", viaSourceIds = new[] { suspilne } } },
            }));
        var unknown = Guid.NewGuid();
        var fourth = Line(new
        {
            externalId = $"{tag}-4", statement = $"Soldiers were moved ({tag}).", tags = new[] { tag },
            evidence = new[] { new { sourceId = suspilne, stance = "asserts", viaSourceIds = new[] { unknown } } },
        });

        var job = await ImportAsync(_client, lines + "\n" + fourth, Ndjson);

        Assert.Equal((1, 3, 2), (job.GetProperty("written").GetInt32(), job.GetProperty("rejected").GetInt32(), job.GetProperty("sourcesCreated").GetInt32()));
        Assert.Equal(
            [(2, "evidence[0].viaSourceIds[0]", "Must be the id of an existing source."),
             (3, "evidence[0].viaSourceIds", "The quoted source cannot relay itself: the chain holds the sources it relays."),
             (4, "evidence[0].viaSourceIds[0]", $"There is no source with id {unknown}; give its name and kind as well to create it.")],
            job.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("line").GetInt32(), e.Str("field"), e.Str("message"))));
        var claim = Assert.Single(await ClaimsTaggedAsync(tag));
        var stored = await (await _client.GetAsync($"/claims/{claim.Id()}")).ReadJsonAsync(HttpStatusCode.OK);
        var item = Assert.Single(stored.GetProperty("evidence").EnumerateArray());
        Assert.Equal([$"Suspilne {tag}", $"Anonymous military sources {tag}"], item.GetProperty("via").EnumerateArray().Select(v => v.Str("name")));
        Assert.Equal(item.GetProperty("via")[1].Id(), item.GetProperty("originSourceId").GetGuid());
        var status = await (await _client.GetAsync($"/claims/{claim.Id()}/status")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(1, status.GetProperty("independentOrigins").GetProperty("mentions").GetInt32());
    }

    [Fact]
    public async Task ACsvClaimKeepsAllFiftyEvidenceRowsWhenRowsWithoutASourceComeFirst()
    {
        var tag = NewTag();
        var statement = $"Fifty outlets reported the desertions ({tag}).";
        var csv = new StringBuilder("statement,language,tags,sourceName,sourceKind,stance\n");
        csv.Append(CultureInfo.InvariantCulture, $"\"{statement}\",en,{tag},,,\n");
        csv.Append(CultureInfo.InvariantCulture, $"\"{statement}\",EN,{tag},,,\n");
        for (var i = 0; i < 50; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"\"{statement}\",en,{tag},Outlet {i} {tag},outlet,mentions\n");
        }

        var job = await ImportAsync(_client, csv.ToString(), Csv);

        Assert.True(job.GetProperty("written").GetInt32() == 1, job.GetRawText());
        var claim = await _client.GetFromJsonAsync<JsonElement>($"/claims/{(await ClaimsTaggedAsync(tag)).Single().Id()}");
        Assert.Equal(50, claim.GetProperty("evidence").GetArrayLength());
        Assert.Equal($"Outlet 49 {tag}", claim.GetProperty("evidence")[49].GetProperty("source").Str("name"));
    }

    [Fact]
    public async Task TheReportComesAPageOfAThousandEntriesAtATimeOnWholeLines()
    {
        var lines = string.Join("\n", Enumerable.Range(1, 1100).Select(_ => "{\"statement\": \"\"}"));

        var job = await ImportAsync(_client, lines, Ndjson);
        var next = await _client.GetFromJsonAsync<JsonElement>($"/imports/{job.Id()}?reportAfter={job.GetProperty("reportNext").GetInt32()}");
        var negative = await (await _client.GetAsync($"/imports/{job.Id()}?reportAfter=-1")).ReadProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal(1100, job.GetProperty("rejected").GetInt32());
        Assert.Equal(Enumerable.Range(1, 1000), job.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("line").GetInt32()));
        Assert.Equal(1000, job.GetProperty("reportNext").GetInt32());
        Assert.Equal(Enumerable.Range(1001, 100), next.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("line").GetInt32()));
        Assert.Equal(JsonValueKind.Null, next.GetProperty("reportNext").ValueKind);
        Assert.Contains("0 or more", Assert.Single(negative.Errors("reportAfter")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LinesTheWriterRejectsCountTowardsTheLimitOfRejectedLines()
    {
        var tag = NewTag();
        // Each line is well formed and names a source nobody has: only the writer can tell.
        var lines = string.Join("\n", Enumerable.Range(1, 2000).Select(i => Line(new
        {
            externalId = $"{tag}-{i}", statement = $"Claim {i} cites a missing source ({tag}).", tags = new[] { tag },
            evidence = new[] { new { sourceId = Guid.NewGuid(), stance = "supports" } },
        })));

        var job = await ImportAsync(_client, lines, Ndjson);

        Assert.True(job.Str("state") == "failed", job.GetRawText());
        Assert.StartsWith("More than 1500 lines were rejected", job.Str("failure"), StringComparison.Ordinal);
        Assert.InRange(job.GetProperty("read").GetInt32(), 1501, 1999);
        Assert.Equal(0, job.GetProperty("written").GetInt32());
    }

    [Fact]
    public async Task AClaimRepeatedInTheSameFileIsWrittenOnceWhetherTheRepeatIsInItsBatchOrALaterOne()
    {
        var tag = NewTag();
        string Claim(int i) => Line(new { externalId = $"{tag}-{i}", statement = $"Claim {i} of a long file ({tag}).", tags = new[] { tag } });
        // Batches of 50: line 2 repeats line 1 in its batch; lines 102 to 121 repeat lines 2 to 21 two batches on.
        var lines = string.Join("\n", new[] { Claim(0) }.Concat(Enumerable.Range(0, 100).Select(Claim)).Concat(Enumerable.Range(1, 20).Select(Claim)));

        var job = await ImportAsync(_client, lines, Ndjson);

        Assert.Equal((100, 21), (job.GetProperty("written").GetInt32(), job.GetProperty("unchanged").GetInt32()));
        Assert.Equal([2, .. Enumerable.Range(102, 20)], job.GetProperty("unchangedLines").EnumerateArray().Select(l => l.GetProperty("line").GetInt32()));
        Assert.Equal((100L, 0L), await CountsAsync(tag));
    }

    private static string Spreadsheet(string tag)
    {
        var quoted = "\"" + HardQuote.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        return "Statement,Summary,Language,Tags,First reported on,Source name,Source kind,Reliability,Stance,Quote,URL,Credibility\r\n"
            + $"North Korean soldiers are training in Russia ({tag}).,,en,north-korea;russia;{tag},2024-10-23,Суспільне {tag},outlet,B,asserts,{quoted},https://suspilne.media/1,2\r\n"
            + $"North Korean soldiers are training in Russia ({tag}).,,en,north-korea;russia;{tag},2024-10-23,Lloyd Austin {tag},person,A,supports,There is evidence.,,\r\n"
            + $",No statement here.,en,{tag},2024-10-24,Suspilne {tag},outlet,B,supports,,,\r\n"
            + $"Soldiers deserted ({tag}).,,en,{tag},2024-10-24,Hromadske {tag},outlet,C,denies,,,\r\n"
            + $"Soldiers were moved ({tag}).,,en,{tag},24/10/2024,,,,,,,\r\n"
            + $"Hromadske counted 18 desertions ({tag}).,,en,{tag},,,,,,,,\r\n"
            + $"Північнокорейські військові дезертирували ({tag}).,,uk,{tag},2024-10-25,,,,,,,\r\n";
    }

    /// <summary>Posts the body, then follows the job until it is no longer running (bounded).</summary>
    private static async Task<JsonElement> ImportAsync(HttpClient client, string body, string contentType, string query = "")
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        var response = await client.PostAsync("/imports" + query, content);
        var accepted = await response.ReadJsonAsync(HttpStatusCode.Accepted);
        Assert.Equal($"/imports/{accepted.Id()}", response.Headers.Location?.ToString());
        for (var i = 0; i < 600; i++)
        {
            var job = await client.GetFromJsonAsync<JsonElement>($"/imports/{accepted.Id()}");
            if (job.Str("state") != "running")
            {
                return job;
            }

            await Task.Delay(50);
        }

        Assert.Fail("The import did not finish within 30 s.");
        return default;
    }

    private static async Task<List<string>> ExportAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/claims");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(Ndjson));
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    private async Task<List<JsonElement>> ClaimsTaggedAsync(string tag) =>
        [.. (await _client.GetFromJsonAsync<JsonElement>($"/claims?tag={tag}&sort=-createdAt&limit=100")).GetProperty("items").EnumerateArray()];

    /// <summary>The claims tagged and the evidence of the sources named with the tag.</summary>
    private async Task<(long Claims, long Sources)> CountsAsync(string tag) =>
        (await ScalarAsync($"SELECT count(*) FROM claims WHERE '{tag}' = ANY(tags)"), await ScalarAsync($"SELECT count(*) FROM sources WHERE name LIKE '%{tag}'"));

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private async Task<string> CreateKeyAsync(string role)
    {
        var response = await _client.PostAsJsonAsync("/admin/keys", new { name = "import-" + role + "-" + Guid.NewGuid().ToString("N")[..8], role });
        return (await response.ReadJsonAsync(HttpStatusCode.Created)).Str("key");
    }

    private static string Line(object value) => JsonSerializer.Serialize(value, new JsonSerializerOptions(JsonSerializerDefaults.Web));

    private static string NewTag() => "imp" + Guid.NewGuid().ToString("N")[..10];
}
