using Claims.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Features;
using Npgsql;

namespace Claims.Tests;

/// <summary>Idempotency-Key on the creating POSTs: claims, sources and evidence.</summary>
public sealed class IdempotencyTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const string Header = "Idempotency-Key";

    private readonly HttpClient _admin = api.CreateClient();

    public static TheoryData<string> Endpoints => ["claims", "sources", "evidence"];

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task TheSameKeyAndBodyReplaysTheFirstAnswerAndStoresNothingNew(string endpoint)
    {
        var target = await TargetAsync(endpoint);
        var key = NewKey();
        var before = await CountAsync(target);

        var first = await PostAsync(_admin, target.Url, target.Body, key);
        var firstText = await first.Content.ReadAsStringAsync();
        var second = await PostAsync(_admin, target.Url, target.Body, key);
        var third = await PostAsync(_admin, target.Url, target.Body, key);

        var created = await first.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(HttpStatusCode.Created, third.StatusCode);
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(first.Headers.Location, third.Headers.Location);
        Assert.Equal(firstText, await second.Content.ReadAsStringAsync());
        Assert.Equal(firstText, await third.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.ETag, second.Headers.ETag);
        Assert.Equal(first.Content.Headers.ContentType?.MediaType, second.Content.Headers.ContentType?.MediaType);
        // Only the replays say so: a client can tell its retry from the write.
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", Assert.Single(second.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal("true", Assert.Single(third.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal(before + 1, await CountAsync(target));
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM idempotency_keys WHERE key = @key", key));
        var stored = await (await _admin.GetAsync(first.Headers.Location!.OriginalString)).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(created.Id(), stored.Id());
        if (endpoint == "evidence")
        {
            // The claim's version moved once, for the one item linked.
            var claim = await (await _admin.GetAsync($"/claims/{target.Claim}")).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal(2, claim.GetProperty("version").GetInt32());
            Assert.Single(claim.GetProperty("evidence").EnumerateArray());
        }
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task TheSameKeyWithADifferentBodyIs422ProblemAndStoresNothingNew(string endpoint)
    {
        var target = await TargetAsync(endpoint);
        var key = NewKey();
        var first = await PostAsync(_admin, target.Url, target.Body, key);
        var created = await first.ReadJsonAsync(HttpStatusCode.Created);
        var count = await CountAsync(target);

        var response = await PostAsync(_admin, target.Url, target.OtherBody, key);

        var problem = await response.ReadProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("Idempotency-Key", problem.Str("title"));
        Assert.Equal(count, await CountAsync(target));
        Assert.Null(response.Headers.Location);
        var stored = await (await _admin.GetAsync(first.Headers.Location!.OriginalString)).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(created.Id(), stored.Id());
        var replay = await PostAsync(_admin, target.Url, target.Body, key);
        Assert.Equal(created.Id(), (await replay.ReadJsonAsync(HttpStatusCode.Created)).Id());
    }

    [Fact]
    public async Task TheSameKeyAndBodyForAnotherClaimsEvidenceIs422AndLinksNothing()
    {
        var target = await TargetAsync("evidence");
        var other = await _admin.ClaimAsync("Ukraine's defense agency says 18 North Korean soldiers deserted.");
        var key = NewKey();
        await (await PostAsync(_admin, target.Url, target.Body, key)).ReadJsonAsync(HttpStatusCode.Created);
        var count = await CountAsync(target);

        var response = await PostAsync(_admin, $"/claims/{other}/evidence", target.Body, key);

        await response.ReadProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(count, await CountAsync(target));
        var evidence = await (await _admin.GetAsync($"/claims/{other}/evidence")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Empty(evidence.GetProperty("items").EnumerateArray());
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task TheSameKeyWhileTheFirstRequestIsStillRunningIs409ProblemAndARetryAfterwardsSucceeds(string endpoint)
    {
        var target = await TargetAsync(endpoint);
        var (owner, reporter) = await ReporterAsync($"Suspilne desk {endpoint}");
        var key = NewKey();
        var before = await CountAsync(target);

        await using (var running = await HoldAsync(owner, key))
        {
            var response = await PostAsync(reporter, target.Url, target.Body, key);

            var problem = await response.ReadProblemAsync(HttpStatusCode.Conflict);
            Assert.Contains("still being processed", problem.Str("title"));
            Assert.Equal(before, await CountAsync(target));
            Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM idempotency_keys WHERE key = @key", key));
            await running.RollbackAsync();
        }

        var retried = await PostAsync(reporter, target.Url, target.Body, key);
        var created = await retried.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal(before + 1, await CountAsync(target));
        var replay = await PostAsync(reporter, target.Url, target.Body, key);
        Assert.Equal(created.Id(), (await replay.ReadJsonAsync(HttpStatusCode.Created)).Id());
    }

    [Fact]
    public async Task TheBootstrapKeysRequestsAreLockedUnderTheOwnerBootstrap()
    {
        var key = NewKey();
        using var bootstrap = api.CreateClient(api.AdminKey, sendCurrentETag: false);
        var body = new { name = "Bruce W. Bennett", kind = "person", reliability = "B" };

        await using (var running = await HoldAsync("bootstrap", key))
        {
            await (await PostAsync(bootstrap, "/sources", body, key)).ReadProblemAsync(HttpStatusCode.Conflict);
            await running.RollbackAsync();
        }

        var created = await (await PostAsync(bootstrap, "/sources", body, key)).ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal("bootstrap-admin", created.Str("createdBy"));
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM idempotency_keys WHERE owner = 'bootstrap' AND key = @key", key));
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task KeysAreScopedToTheCallersApiKey(string endpoint)
    {
        var target = await TargetAsync(endpoint);
        var (_, reporter) = await ReporterAsync($"Hromadske desk {endpoint}");
        var key = NewKey();
        var before = await CountAsync(target);

        var byAdmin = await (await PostAsync(_admin, target.Url, target.Body, key)).ReadJsonAsync(HttpStatusCode.Created);
        var byReporter = await (await PostAsync(reporter, target.Url, target.Body, key)).ReadJsonAsync(HttpStatusCode.Created);

        Assert.NotEqual(byAdmin.Id(), byReporter.Id());
        Assert.Equal("bootstrap-admin", byAdmin.Str("createdBy"));
        Assert.Equal($"Hromadske desk {endpoint}", byReporter.Str("createdBy"));
        Assert.Equal(before + 2, await CountAsync(target));
        Assert.Equal(2, await ScalarAsync("SELECT count(*) FROM idempotency_keys WHERE key = @key", key));
        var reporterAgain = await (await PostAsync(reporter, target.Url, target.Body, key)).ReadJsonAsync(HttpStatusCode.Created);
        var adminAgain = await (await PostAsync(_admin, target.Url, target.Body, key)).ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal(byReporter.Id(), reporterAgain.Id());
        Assert.Equal(byAdmin.Id(), adminAgain.Id());
        Assert.Equal(before + 2, await CountAsync(target));
    }

    [Theory]
    [InlineData("claims", "empty")]
    [InlineData("sources", "empty")]
    [InlineData("evidence", "empty")]
    [InlineData("sources", "blank")]
    [InlineData("sources", "quoted empty")]
    [InlineData("claims", "256 characters")]
    [InlineData("sources", "256 characters")]
    [InlineData("evidence", "256 characters")]
    [InlineData("claims", "two keys")]
    public async Task AnEmptyOrOverlongKeyIs400ProblemAndStoresNothing(string endpoint, string header)
    {
        var target = await TargetAsync(endpoint);
        var before = await CountAsync(target);

        var (status, mediaType, text) = header switch
        {
            // HttpClient over the test server drops a header whose value is empty, so this one is
            // sent as the server receives it from a client that writes "Idempotency-Key:".
            "empty" => await PostWithEmptyKeyAsync(target),
            "two keys" => await ReadAsync(await PostAsync(_admin, target.Url, target.Body, NewKey(), NewKey())),
            _ => await ReadAsync(await PostAsync(_admin, target.Url, target.Body, header switch
            {
                "blank" => "   ",
                "quoted empty" => "\"\"",
                _ => new string('k', 256),
            })),
        };

        Assert.True(status == 400, $"Expected 400, got {status}: {text}");
        Assert.Equal("application/problem+json", mediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Contains("Idempotency-Key", problem.Str("title"));
        Assert.Contains("255", problem.Str("detail"));
        Assert.Equal(before, await CountAsync(target));
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task AKeyOf255CharactersIsAccepted(string endpoint)
    {
        var target = await TargetAsync(endpoint);
        var key = NewKey() + new string('k', 255 - NewKey().Length);
        Assert.Equal(255, key.Length);

        var first = await (await PostAsync(_admin, target.Url, target.Body, key)).ReadJsonAsync(HttpStatusCode.Created);
        var replay = await (await PostAsync(_admin, target.Url, target.Body, key)).ReadJsonAsync(HttpStatusCode.Created);

        Assert.Equal(first.Id(), replay.Id());
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task ARequestThatFailedValidationDoesNotUseUpTheKey(string endpoint)
    {
        var target = await TargetAsync(endpoint);
        var key = NewKey();
        var before = await CountAsync(target);

        foreach (var (invalid, field) in target.Invalid)
        {
            var refused = await PostAsync(_admin, target.Url, invalid, key);
            Assert.NotEmpty((await refused.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors(field));
        }

        Assert.Equal(before, await CountAsync(target));
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM idempotency_keys WHERE key = @key", key));
        var fixedResponse = await PostAsync(_admin, target.Url, target.Body, key);
        var created = await fixedResponse.ReadJsonAsync(HttpStatusCode.Created);
        var replay = await PostAsync(_admin, target.Url, target.Body, key);
        Assert.Equal(created.Id(), (await replay.ReadJsonAsync(HttpStatusCode.Created)).Id());
        Assert.Equal(before + 1, await CountAsync(target));
    }

    [Fact]
    public async Task WithoutAKeyTheSameBodyTwiceStoresTwoRecords()
    {
        var target = await TargetAsync("sources");
        var before = await CountAsync(target);

        var first = await (await PostAsync(_admin, target.Url, target.Body)).ReadJsonAsync(HttpStatusCode.Created);
        var second = await (await PostAsync(_admin, target.Url, target.Body)).ReadJsonAsync(HttpStatusCode.Created);

        Assert.NotEqual(first.Id(), second.Id());
        Assert.Equal(before + 2, await CountAsync(target));
    }

    private sealed record Target(string Url, object Body, object OtherBody, (object Body, string Field)[] Invalid, string Table, Guid Claim);

    private async Task<Target> TargetAsync(string endpoint)
    {
        switch (endpoint)
        {
            case "claims":
                return new Target(
                    "/claims",
                    new { statement = "Lloyd Austin: there is evidence North Korean soldiers are in Russia.", language = "en", tags = new[] { "north-korea", "russia" }, firstReportedOn = "2024-10-23" },
                    new { statement = "Lloyd Austin: there is evidence North Korean soldiers are in Kursk.", language = "en", tags = new[] { "north-korea", "russia" }, firstReportedOn = "2024-10-23" },
                    [
                        (new { statement = "", language = "en" }, "statement"),
                        (new { statement = "Lloyd Austin: there is evidence North Korean soldiers are in Russia.", evidence = new[] { Story.Evidence(Guid.CreateVersion7(), "asserts") } }, "evidence[0].sourceId"),
                    ],
                    "claims",
                    Guid.Empty);
            case "sources":
                return new Target(
                    "/sources",
                    new { name = "Suspilne", kind = "outlet", reliability = "C", url = "https://suspilne.media/" },
                    new { name = "Suspilne", kind = "outlet", reliability = "B", url = "https://suspilne.media/" },
                    [(new { name = "", kind = "outlet" }, "name")],
                    "sources",
                    Guid.Empty);
            default:
                var hromadske = await _admin.SourceAsync("Hromadske", "outlet", "C");
                var claim = await _admin.ClaimAsync(Story.Deserted);
                return new Target(
                    $"/claims/{claim}/evidence",
                    Story.Evidence(hromadske, "asserts", "18 soldiers deserted"),
                    Story.Evidence(hromadske, "asserts", "20 soldiers deserted"),
                    [
                        (new { sourceId = hromadske, stance = "insists" }, "stance"),
                        (Story.Evidence(Guid.CreateVersion7(), "asserts", "18 soldiers deserted"), "sourceId"),
                    ],
                    "evidence",
                    claim);
        }
    }

    private Task<long> CountAsync(Target target) => ScalarAsync($"SELECT count(*) FROM {target.Table}", null);

    private static string NewKey() => Guid.NewGuid().ToString();

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string url, object body, params string?[] keys)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body) };
        foreach (var key in keys.OfType<string>())
        {
            Assert.True(request.Headers.TryAddWithoutValidation(Header, key));
        }

        return client.SendAsync(request);
    }

    private static async Task<(int Status, string? MediaType, string Text)> ReadAsync(HttpResponseMessage response) =>
        ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());

    private async Task<(int Status, string? MediaType, string Text)> PostWithEmptyKeyAsync(Target target)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(target.Body, JsonSerializerOptions.Web);
        var context = await api.Server.SendAsync(http =>
        {
            http.Request.Method = "POST";
            http.Request.Path = target.Url;
            http.Request.Headers["X-Api-Key"] = api.AdminKey;
            http.Request.Headers[Header] = "";
            http.Request.ContentType = "application/json";
            http.Request.ContentLength = body.Length;
            http.Features.Set<IHttpRequestBodyDetectionFeature>(new HasBody());
            http.Request.Body = new MemoryStream(body);
        });
        using var reader = new StreamReader(context.Response.Body);
        var contentType = context.Response.ContentType;
        return (context.Response.StatusCode, contentType?.Split(';')[0], await reader.ReadToEndAsync());
    }

    private sealed class HasBody : IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody => true;
    }

    /// <summary>A reporter key's client, and the id its idempotency keys are scoped to.</summary>
    private async Task<(string Owner, HttpClient Client)> ReporterAsync(string name)
    {
        var created = await (await _admin.PostAsJsonAsync("/admin/keys", new { name, role = "reporter" })).ReadJsonAsync(HttpStatusCode.Created);
        return (created.Id().ToString(), api.CreateClient(created.Str("key")));
    }

    /// <summary>Holds the advisory lock the app takes for the key, as a first request that is still running does.</summary>
    private async Task<HeldLock> HoldAsync(string owner, string key)
    {
        var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended(@owner || ':' || @key, 7274))", connection, transaction);
        command.Parameters.AddWithValue("owner", owner);
        command.Parameters.AddWithValue("key", key);
        await command.ExecuteNonQueryAsync();
        return new HeldLock(connection, transaction);
    }

    private sealed class HeldLock(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public Task RollbackAsync() => transaction.RollbackAsync();

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    private async Task<long> ScalarAsync(string sql, string? key)
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        if (key is not null)
        {
            command.Parameters.AddWithValue("key", key);
        }

        return (long)(await command.ExecuteScalarAsync())!;
    }
}
