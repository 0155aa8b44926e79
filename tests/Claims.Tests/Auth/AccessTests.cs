using System.Security.Cryptography;
using System.Text;
using Claims.Hostile;
using Claims.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Claims.Tests;

/// <summary>API keys, roles, the 401 and 403 answers, and who is recorded as the author of a write.</summary>
public sealed class AccessTests(ApiFactory api) : IClassFixture<ApiFactory>
{

    /// <summary>
    /// Every endpoint of the app with the least role that may call it. A new endpoint without an
    /// entry here, or an endpoint whose rule differs, fails <see cref="EveryEndpointOfTheRunningAppHasAnEntryInTheRoleMatrixWithTheSameRule"/>.
    /// </summary>
    private static readonly (string Method, string Route, string Role)[] Matrix =
    [
        ("GET", "/sources", "reader"),
        ("GET", "/sources/{id:guid}", "reader"),
        ("GET", "/sources/{id:guid}/claims", "reader"),
        ("POST", "/sources", "reporter"),
        ("PUT", "/sources/{id:guid}", "reporter"),
        ("PATCH", "/sources/{id:guid}", "reporter"),
        ("DELETE", "/sources/{id:guid}", "editor"),
        ("GET", "/sources/{id:guid}/relations", "reader"),
        ("POST", "/sources/{id:guid}/relations", "reporter"),
        ("DELETE", "/sources/{id:guid}/relations/{relationId:guid}", "editor"),
        ("GET", "/sources/{id:guid}/record", "reader"),
        ("GET", "/claims", "reader"),
        ("GET", "/claims/similar", "reader"),
        ("GET", "/claims/{id:guid}", "reader"),
        ("POST", "/claims", "reporter"),
        ("PUT", "/claims/{id:guid}", "reporter"),
        ("PATCH", "/claims/{id:guid}", "reporter"),
        ("DELETE", "/claims/{id:guid}", "editor"),
        ("GET", "/claims/{id:guid}/relations", "reader"),
        ("POST", "/claims/{id:guid}/relations", "reporter"),
        ("DELETE", "/claims/{id:guid}/relations/{relationId:guid}", "editor"),
        ("GET", "/claims/{id:guid}/evidence", "reader"),
        ("GET", "/claims/{id:guid}/evidence/{evidenceId:guid}", "reader"),
        ("POST", "/claims/{id:guid}/evidence", "reporter"),
        ("DELETE", "/claims/{id:guid}/evidence/{evidenceId:guid}", "editor"),
        ("GET", "/evidence", "reader"),
        ("POST", "/claims/statuses", "reader"),
        ("GET", "/claims/status-rules", "reader"),
        ("GET", "/claims/{id:guid}/status", "reader"),
        ("PUT", "/claims/{id:guid}/status", "editor"),
        ("GET", "/claims/{id:guid}/history", "reader"),
        ("GET", "/claims/{id:guid}/claimreview", "reader"),
        ("GET", "/claimreview", "reader"),
        ("POST", "/imports", "editor"),
        ("GET", "/imports/{id:guid}", "reader"),
        ("GET", "/stats", "reader"),
        ("GET", "/metrics", "reader"),
        ("GET", "/events", "reader"),
        ("GET", "/events/stream", "reader"),
        ("GET", "/admin/keys", "admin"),
        ("POST", "/admin/keys", "admin"),
        ("DELETE", "/admin/keys/{id:guid}", "admin"),
        ("GET", "/webhooks", "admin"),
        ("POST", "/webhooks", "admin"),
        ("GET", "/webhooks/{id:guid}", "admin"),
        ("DELETE", "/webhooks/{id:guid}", "admin"),
        ("POST", "/webhooks/{id:guid}/rotate-secret", "admin"),
        ("POST", "/webhooks/{id:guid}/test", "admin"),
        ("GET", "/webhooks/{id:guid}/deliveries", "admin"),
        ("POST", "/webhooks/{id:guid}/deliveries/{deliveryId:guid}/retry", "admin"),
        // The desk's sign-in takes its key in the body; the other two go by the session cookie.
        ("POST", "/desk/session", "anonymous"),
        ("GET", "/desk/session", "anonymous"),
        ("DELETE", "/desk/session", "anonymous"),
    ];

    private static readonly string[] Roles = ["reader", "reporter", "editor", "admin"];


    private readonly HttpClient _admin = api.CreateClient();

    [Fact]
    public void EveryEndpointOfTheRunningAppHasAnEntryInTheRoleMatrixWithTheSameRule()
    {
        var endpoints = api.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>() is not null)
            .Select(e => (Endpoint: e, Route: Normalize(e.RoutePattern.RawText)))
            .Where(e => !e.Route.StartsWith("/health", StringComparison.Ordinal) && !e.Route.StartsWith("/swagger", StringComparison.Ordinal)
                && !e.Route.StartsWith("/problems", StringComparison.Ordinal))
            .SelectMany(e => e.Endpoint.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(method => (Method: method, e.Route, Rule: Rule(e.Endpoint))))
            .ToList();
        var matrix = Matrix.ToDictionary(m => (m.Method, m.Route), m => m.Role);

        var problems = new List<string>();
        foreach (var (method, route, rule) in endpoints)
        {
            if (!matrix.TryGetValue((method, route), out var role))
            {
                problems.Add($"{method} {route} ({rule}) has no entry in the role matrix.");
            }
            else if (rule != role)
            {
                problems.Add($"{method} {route} needs '{rule}', the matrix says '{role}'.");
            }
        }

        foreach (var (method, route, _) in Matrix.Where(m => !endpoints.Any(e => e.Method == m.Method && e.Route == m.Route)))
        {
            problems.Add($"{method} {route} is in the matrix but not in the app.");
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        Assert.Equal(Matrix.Length, endpoints.Count);
    }

    [Fact]
    public async Task EveryEndpointAnswers401WithoutAKey403BelowItsRoleAndServesItsRoleAndAbove()
    {
        var keys = new Dictionary<string, string>();
        foreach (var role in Roles)
        {
            keys[role] = (await CreateKeyAsync($"Matrix {role}", role)).Secret;
        }

        var callers = new List<(string Name, string? Key, int Rank)> { ("no key", null, -1) };
        callers.AddRange(Roles.Select((role, rank) => ($"{role} key", (string?)keys[role], rank)));
        callers.Add(("bootstrap admin key", api.AdminKey, Array.IndexOf(Roles, "admin")));

        var failures = new List<string>();
        // Endpoints open to anyone answer by what they are sent, not by a key's role (DeskSessionTests covers the desk's).
        foreach (var (method, route, role) in Matrix.Where(m => m.Role != "anonymous"))
        {
            var needed = Array.IndexOf(Roles, role);
            var target = await TargetAsync(route);
            foreach (var (name, key, rank) in callers)
            {
                using var client = api.CreateClient(key, sendCurrentETag: false);
                var (response, text) = await OpenApiFuzz.SendAsync(client, target.Request(method));
                using var answer = response;
                var status = (int)response.StatusCode;
                var expected = key is null ? "401" : rank < needed ? "403" : "neither 401 nor 403, and no 5xx";
                var ok = key is null ? status == 401 : rank < needed ? status == 403 : status is not (401 or 403) and < 500;
                if (ok && status is 401 or 403 && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                {
                    ok = false;
                    expected += " as application/problem+json";
                }

                if (!ok)
                {
                    failures.Add($"{method} {route} with {name}: expected {expected}, got {status}: {text}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public async Task WithoutAKeyARequestIs401ProblemWithWwwAuthenticateSayingWhereToSendIt()
    {
        using var anonymous = api.CreateClient(null, sendCurrentETag: false);

        var read = await anonymous.GetAsync("/claims");
        var write = await anonymous.PostAsJsonAsync("/sources", new { name = "Suspilne (anonymous attempt)", kind = "outlet" });

        var problem = await read.ReadProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("X-Api-Key", problem.Str("detail"));
        Assert.Contains("reader", problem.Str("detail"));
        var challenge = Assert.Single(read.Headers.WwwAuthenticate);
        Assert.Equal("ApiKey", challenge.Scheme);
        Assert.Contains("X-Api-Key", challenge.Parameter);
        var writeProblem = await write.ReadProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("reporter", writeProblem.Str("detail"));
        Assert.NotEmpty(write.Headers.WwwAuthenticate);
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM sources WHERE name = 'Suspilne (anonymous attempt)'"));
    }

    [Theory]
    [InlineData("clm_NotAKeyThatWasEverIssued", 1)]
    [InlineData("test-admin-not-quite-the-bootstrap-key", 1)]
    [InlineData("clm_far-too-long-", 30)]
    public async Task AnUnknownKeyIs401ProblemSayingTheKeyIsUnknownOrRevoked(string part, int repeat)
    {
        var key = string.Concat(Enumerable.Repeat(part, repeat));
        using var client = api.CreateClient(key, sendCurrentETag: false);

        var response = await client.GetAsync("/stats");

        var problem = await response.ReadProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("unknown or revoked", problem.Str("detail"));
        Assert.Equal("ApiKey", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
    }

    [Fact]
    public async Task ARoleTooLowIs403ProblemNamingTheNeededRoleAndTheKeyAndStoresNothing()
    {
        var reader = await CreateKeyAsync("Hromadske reader", "reader");
        var editor = await CreateKeyAsync("Business Insider editor", "editor");
        using var readerClient = api.CreateClient(reader.Secret, sendCurrentETag: false);
        using var editorClient = api.CreateClient(editor.Secret, sendCurrentETag: false);

        var write = await readerClient.PostAsJsonAsync("/sources", new { name = "Hromadske (reader attempt)", kind = "outlet", reliability = "C" });
        var admin = await editorClient.GetAsync("/admin/keys");

        var problem = await write.ReadProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("reporter", problem.Str("detail"));
        Assert.Contains("'Hromadske reader'", problem.Str("detail"));
        Assert.Contains("is reader", problem.Str("detail"));
        Assert.Empty(write.Headers.WwwAuthenticate);
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM sources WHERE name = 'Hromadske (reader attempt)'"));
        var adminProblem = await admin.ReadProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("admin", adminProblem.Str("detail"));
        Assert.Contains("'Business Insider editor'", adminProblem.Str("detail"));
    }

    [Theory]
    [InlineData("X-Api-Key")]
    [InlineData("api_key")]
    [InlineData("apiKey")]
    [InlineData("key")]
    public async Task AKeyInTheQueryStringIsNotAccepted(string parameter)
    {
        var reader = await CreateKeyAsync("Suspilne reader", "reader");
        using var anonymous = api.CreateClient(null, sendCurrentETag: false);

        var response = await anonymous.GetAsync($"/claims?{parameter}={Uri.EscapeDataString(reader.Secret)}");
        var bootstrap = await anonymous.GetAsync($"/admin/keys?{parameter}={Uri.EscapeDataString(api.AdminKey)}");

        Assert.Contains("X-Api-Key header", (await response.ReadProblemAsync(HttpStatusCode.Unauthorized)).Str("detail"));
        await bootstrap.ReadProblemAsync(HttpStatusCode.Unauthorized);
        using var withHeader = api.CreateClient(reader.Secret, sendCurrentETag: false);
        await (await withHeader.GetAsync("/claims")).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task CreatingAKeyAnswersItsSecretOnceAndStoresOnlyItsSha256Hash()
    {
        var response = await _admin.PostAsJsonAsync("/admin/keys", new { name = "  Suspilne desk  ", role = "reporter" });

        var body = await response.ReadJsonAsync(HttpStatusCode.Created);
        var secret = body.Str("key");
        Assert.Equal($"/admin/keys/{body.Id()}", response.Headers.Location?.OriginalString);
        Assert.Equal("Suspilne desk", body.Str("name"));
        Assert.Equal("reporter", body.Str("role"));
        Assert.StartsWith("clm_", secret, StringComparison.Ordinal);
        Assert.True(secret.Length >= 40, secret);
        Assert.False(body.TryGetProperty("hash", out _));

        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT hash, row_to_json(k)::text FROM api_keys k WHERE id = @id", connection);
        command.Parameters.AddWithValue("id", body.Id());
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(secret)), (byte[])reader[0]);
        Assert.DoesNotContain(secret, reader.GetString(1), StringComparison.Ordinal);

        using var reporter = api.CreateClient(secret);
        await (await reporter.PostAsJsonAsync("/sources", new { name = "Suspilne", kind = "outlet" })).ReadJsonAsync(HttpStatusCode.Created);
        var other = await CreateKeyAsync("Hromadske desk", "reporter");
        Assert.NotEqual(secret, other.Secret);
    }

    [Fact]
    public async Task ListingKeysShowsNameRoleAndRevocationButNeverASecretOrHash()
    {
        var reporter = await CreateKeyAsync("Business Insider desk", "reporter");
        var editor = await CreateKeyAsync("Bruce W. Bennett interview desk", "editor");

        var response = await _admin.GetAsync("/admin/keys?limit=200");

        var text = await response.Content.ReadAsStringAsync();
        var page = await response.ReadJsonAsync(HttpStatusCode.OK);
        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.DoesNotContain(reporter.Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain(editor.Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(reporter.Secret))), text, StringComparison.Ordinal);
        Assert.All(items, item =>
        {
            Assert.False(item.TryGetProperty("key", out _), item.ToString());
            Assert.False(item.TryGetProperty("hash", out _), item.ToString());
        });
        var listed = items.Single(i => i.Id() == editor.Id);
        Assert.Equal("Bruce W. Bennett interview desk", listed.Str("name"));
        Assert.Equal("editor", listed.Str("role"));
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("revokedAt").ValueKind);
        var ids = items.Select(i => i.Id()).ToList();
        Assert.True(ids.IndexOf(editor.Id) < ids.IndexOf(reporter.Id), "Newest first");
    }

    [Fact]
    public async Task ARevokedKeyIsRefusedAtOnceAndListedAsRevoked()
    {
        var key = await CreateKeyAsync("Hromadske night desk", "reader");
        using var client = api.CreateClient(key.Secret, sendCurrentETag: false);
        await (await client.GetAsync("/claims")).ReadJsonAsync(HttpStatusCode.OK);

        var revoke = await _admin.DeleteAsync($"/admin/keys/{key.Id}");

        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        var refused = await client.GetAsync("/claims");
        Assert.Contains("unknown or revoked", (await refused.ReadProblemAsync(HttpStatusCode.Unauthorized)).Str("detail"));
        var page = await (await _admin.GetAsync("/admin/keys?limit=200")).ReadJsonAsync(HttpStatusCode.OK);
        var listed = page.GetProperty("items").EnumerateArray().Single(i => i.Id() == key.Id);
        Assert.Equal(JsonValueKind.String, listed.GetProperty("revokedAt").ValueKind);
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/admin/keys/{key.Id}")).StatusCode);
        await (await client.GetAsync("/stats")).ReadProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task RevokingAnUnknownKeyIs404Problem()
    {
        var unknown = Guid.CreateVersion7();

        var problem = await (await _admin.DeleteAsync($"/admin/keys/{unknown}")).ReadProblemAsync(HttpStatusCode.NotFound);

        Assert.Contains(unknown.ToString(), problem.Str("detail"));
    }

    [Theory]
    [InlineData("""{"name":"Suspilne desk","role":"owner"}""", "role")]
    [InlineData("""{"name":"   ","role":"reader"}""", "name")]
    [InlineData("""{"role":"reader"}""", "name")]
    [InlineData("""{"name":"Suspilne desk"}""", "role")]
    public async Task AKeyWithoutANameOrWithAnUnknownRoleIs400NamingTheField(string body, string field)
    {
        var before = await ScalarAsync("SELECT count(*) FROM api_keys");

        var response = await _admin.PostRawAsync("/admin/keys", body);

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors(field));
        Assert.Equal(before, await ScalarAsync("SELECT count(*) FROM api_keys"));
    }

    [Fact]
    public async Task TheBootstrapKeyIsAnAdminKeyAndIsRecordedAsBootstrapAdmin()
    {
        using var bootstrap = api.CreateClient(api.AdminKey, sendCurrentETag: false);

        var created = await bootstrap.PostAsJsonAsync("/admin/keys", new { name = "Verification desk", role = "editor" });
        var listed = await bootstrap.GetAsync("/admin/keys");
        var source = await bootstrap.PostAsJsonAsync("/sources", new { name = "Lloyd Austin", kind = "person", reliability = "B" });

        Assert.Equal("editor", (await created.ReadJsonAsync(HttpStatusCode.Created)).Str("role"));
        await listed.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("bootstrap-admin", (await source.ReadJsonAsync(HttpStatusCode.Created)).Str("createdBy"));
    }

    [Fact]
    public async Task WithAnonymousReadsCallersWithoutAKeyMayReadButNotWrite()
    {
        var claim = await _admin.ClaimAsync(Story.Training);
        await using var open = api.WithWebHostBuilder(b => b.UseSetting("Auth:AnonymousReads", "true"));
        using var anonymous = open.CreateClient();

        var list = await anonymous.GetAsync("/claims");
        var one = await anonymous.GetAsync($"/claims/{claim}");
        var statuses = await anonymous.PostAsJsonAsync("/claims/statuses", new { ids = new[] { claim } });
        var create = await anonymous.PostAsJsonAsync("/claims", new { statement = "Lloyd Austin says there is evidence of North Korean troops in Russia." });
        var status = await anonymous.PutAsJsonAsync($"/claims/{claim}/status", new { status = "in_review" });
        var keys = await anonymous.GetAsync("/admin/keys");

        Assert.Contains(claim, (await list.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().Select(c => c.Id()));
        Assert.Equal(Story.Training, (await one.ReadJsonAsync(HttpStatusCode.OK)).Str("statement"));
        Assert.Equal(claim, (await statuses.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("items")[0].GetProperty("claimId").GetGuid());
        Assert.Contains("reporter", (await create.ReadProblemAsync(HttpStatusCode.Unauthorized)).Str("detail"));
        await status.ReadProblemAsync(HttpStatusCode.Unauthorized);
        await keys.ReadProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM claims WHERE statement LIKE 'Lloyd Austin says%'"));
        Assert.Equal("unverified", (await (await _admin.GetAsync($"/claims/{claim}")).ReadJsonAsync(HttpStatusCode.OK)).Str("status"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WithAnonymousReadsARevokedOrUnknownKeyIsStill401(bool revoked)
    {
        var secret = "clm_NotAKeyThatWasEverIssued";
        if (revoked)
        {
            var key = await CreateKeyAsync("Revoked Suspilne reader", "reader");
            Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/admin/keys/{key.Id}")).StatusCode);
            secret = key.Secret;
        }

        await using var open = api.WithWebHostBuilder(b => b.UseSetting("Auth:AnonymousReads", "true"));
        using var client = open.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", secret);

        var response = await client.GetAsync("/stats");

        Assert.Contains("unknown or revoked", (await response.ReadProblemAsync(HttpStatusCode.Unauthorized)).Str("detail"));
    }

    [Theory]
    [InlineData("/health/live", "\"status\":\"Healthy\"")]
    [InlineData("/health/ready", "\"postgres\":{\"status\":\"Healthy\"")]
    [InlineData("/swagger/v1/swagger.json", "\"openapi\"")]
    [InlineData("/swagger/index.html", "<html")]
    public async Task HealthAndSwaggerAreOpenWithoutAKey(string url, string expected)
    {
        using var anonymous = api.CreateClient(null, sendCurrentETag: false);

        var response = await anonymous.GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TheKeysNameIsRecordedAsAuthorOfSourcesClaimsEvidenceAndStatusChanges()
    {
        var reporterKey = await CreateKeyAsync("Suspilne desk", "reporter");
        var otherReporterKey = await CreateKeyAsync("Hromadske desk", "reporter");
        var editorKey = await CreateKeyAsync("Verification desk", "editor");
        using var reporter = api.CreateClient(reporterKey.Secret);
        using var otherReporter = api.CreateClient(otherReporterKey.Secret);
        using var editor = api.CreateClient(editorKey.Secret);

        var source = await (await reporter.PostAsJsonAsync("/sources", new { name = "Suspilne", kind = "outlet", reliability = "C" }))
            .ReadJsonAsync(HttpStatusCode.Created);
        var claim = await (await reporter.PostAsJsonAsync("/claims", new
        {
            statement = Story.Deserted,
            evidence = new[] { Story.Evidence(source.Id(), "asserts", "18 soldiers deserted") },
        })).ReadJsonAsync(HttpStatusCode.Created);
        var hromadske = await (await otherReporter.PostAsJsonAsync("/sources", new { name = "Hromadske", kind = "outlet", reliability = "C" }))
            .ReadJsonAsync(HttpStatusCode.Created);
        var added = await (await otherReporter.PostAsJsonAsync($"/claims/{claim.Id()}/evidence",
            Story.Evidence(hromadske.Id(), "supports", "there is evidence"))).ReadJsonAsync(HttpStatusCode.Created);
        await (await otherReporter.PutAsJsonAsync($"/sources/{source.Id()}", new { name = "Suspilne", kind = "outlet", reliability = "B" }))
            .ReadJsonAsync(HttpStatusCode.OK);
        await editor.SetStatusAsync(claim.Id(), "confirmed", "Suspilne and Hromadske both report it.");

        Assert.Equal("Suspilne desk", source.Str("createdBy"));
        Assert.Equal("Suspilne desk", claim.Str("createdBy"));
        Assert.Equal("Suspilne desk", claim.GetProperty("evidence")[0].Str("createdBy"));
        Assert.Equal("Hromadske desk", added.Str("createdBy"));
        var storedSource = await (await _admin.GetAsync($"/sources/{source.Id()}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("Suspilne desk", storedSource.Str("createdBy"));
        Assert.Equal("B", storedSource.Str("reliability"));
        var storedClaim = await (await _admin.GetAsync($"/claims/{claim.Id()}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("Suspilne desk", storedClaim.Str("createdBy"));
        Assert.Equal(["Suspilne desk", "Hromadske desk"], storedClaim.GetProperty("evidence").EnumerateArray().Select(e => e.Str("createdBy")));
        var history = await (await _admin.GetAsync($"/claims/{claim.Id()}/history")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(
            [("unverified", "Suspilne desk"), ("confirmed", "Verification desk")],
            history.GetProperty("items").EnumerateArray().Select(h => (h.Str("toStatus"), h.Str("changedBy"))));
    }

    [Fact]
    public async Task TheKeysCreateVerbPrintsAWorkingKeyOfTheGivenRole()
    {
        var run = await RunApiAsync(["keys", "create", "--name", "Bruce W. Bennett desk", "--role", "editor"]);

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("editor", run.Output);
        Assert.Contains("Bruce W. Bennett desk", run.Output);
        var secret = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Single(line => line.StartsWith("clm_", StringComparison.Ordinal));
        var claim = await _admin.ClaimAsync(Story.Training);
        using var editor = api.CreateClient(secret);
        var changed = await editor.SetStatusAsync(claim, "in_review", "Asking Bruce W. Bennett.");
        Assert.Equal("in_review", changed.Str("status"));
        await (await editor.GetAsync("/admin/keys")).ReadProblemAsync(HttpStatusCode.Forbidden);
        var history = await (await _admin.GetAsync($"/claims/{claim}/history")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("Bruce W. Bennett desk", history.GetProperty("items")[1].Str("changedBy"));
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM api_keys WHERE name = 'Bruce W. Bennett desk' AND role = 'editor'"));
    }

    [Theory]
    [InlineData("owner")]
    [InlineData(null)]
    public async Task TheKeysCreateVerbRefusesAMissingOrUnknownRoleWithUsage(string? role)
    {
        string[] arguments = role is null ? ["keys", "create", "--name", "Suspilne CLI desk"] : ["keys", "create", "--name", "Suspilne CLI desk", "--role", role];

        var run = await RunApiAsync(arguments);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("Usage: keys create", run.Output);
        Assert.DoesNotContain("clm_", run.Output);
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM api_keys WHERE name = 'Suspilne CLI desk'"));
    }

    private async Task<(Guid Id, string Secret)> CreateKeyAsync(string name, string role)
    {
        var response = await _admin.PostAsJsonAsync("/admin/keys", new { name, role });
        var body = await response.ReadJsonAsync(HttpStatusCode.Created);
        return (body.Id(), body.Str("key"));
    }

    /// <summary>Fresh records for one endpoint of the matrix, so that one caller's delete does not hide another's answer.</summary>
    private async Task<Target> TargetAsync(string route)
    {
        var source = await _admin.SourceAsync("Hromadske", "outlet", "C");
        var unused = await _admin.SourceAsync("Business Insider", "outlet", "B");
        var claim = await _admin.ClaimAsync(Story.Training, Story.Evidence(source, "asserts"));
        var evidence = (await (await _admin.PostAsJsonAsync($"/claims/{claim}/evidence", Story.Evidence(source, "mentions", "there is evidence")))
            .ReadJsonAsync(HttpStatusCode.Created)).Id();
        var key = (await CreateKeyAsync("Matrix victim", "reader")).Id;
        var relation = route.Contains("{relationId:guid}", StringComparison.Ordinal)
            ? (await (await _admin.PostAsJsonAsync($"/sources/{unused}/relations", new { kind = "cites", relatedSourceId = source })).ReadJsonAsync(HttpStatusCode.Created)).Id()
            : Guid.Empty;
        var id = route.StartsWith("/sources", StringComparison.Ordinal) ? unused
            : route.StartsWith("/admin", StringComparison.Ordinal) ? key
            : route.StartsWith("/webhooks", StringComparison.Ordinal) ? await WebhookAsync()
            : claim;
        var url = route.Replace("{id:guid}", id.ToString(), StringComparison.Ordinal)
            .Replace("{evidenceId:guid}", evidence.ToString(), StringComparison.Ordinal)
            .Replace("{relationId:guid}", relation.ToString(), StringComparison.Ordinal)
            .Replace("{deliveryId:guid}", Guid.NewGuid().ToString(), StringComparison.Ordinal);
        return new Target(route, url, source, claim);
    }

    /// <summary>A subscription to a public address for a claim that does not exist: it never gets an event.</summary>
    private async Task<Guid> WebhookAsync()
    {
        var response = await _admin.PostAsJsonAsync("/webhooks", Target.Webhook);
        return (await response.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("webhook").Id();
    }

    private sealed record Target(string Route, string Url, Guid Source, Guid Claim)
    {
        public static readonly object Webhook = new { url = "https://93.184.215.14/claims-hook", claimId = Guid.NewGuid() };

        public HttpRequestMessage Request(string method)
        {
            var request = new HttpRequestMessage(new HttpMethod(method), Route == "/claims/similar" ? $"{Url}?text={Uri.EscapeDataString(Story.Training)}" : Url);
            object? body = (method, Route) switch
            {
                ("POST", "/sources") or ("PUT", "/sources/{id:guid}") => new { name = "Business Insider", kind = "outlet", reliability = "B" },
                ("POST", "/claims") or ("PUT", "/claims/{id:guid}") => new { statement = "Lloyd Austin: there is evidence of North Korean soldiers in Russia." },
                ("POST", "/claims/{id:guid}/evidence") => Story.Evidence(Source, "supports", "there is evidence"),
                ("POST", "/sources/{id:guid}/relations") => new { kind = "affiliated_with", relatedSourceId = Source },
                ("POST", "/claims/statuses") => new { ids = new[] { Claim } },
                ("PUT", "/claims/{id:guid}/status") => new { status = "in_review", note = "Seeking a second source." },
                ("POST", "/admin/keys") => new { name = "Matrix minted", role = "reader" },
                ("POST", "/webhooks") => Webhook,
                _ => null,
            };
            if (body is not null)
            {
                request.Content = JsonContent.Create(body);
            }

            if (method == "PATCH")
            {
                request.Content = new StringContent("""{"summary":"Seen in the matrix."}""", new System.Net.Http.Headers.MediaTypeHeaderValue("application/merge-patch+json"));
            }

            if (method is "PUT" or "PATCH" or "DELETE")
            {
                request.Headers.TryAddWithoutValidation("If-Match", "*");
            }

            return request;
        }
    }

    private static string Normalize(string? route)
    {
        var text = "/" + (route ?? "").Trim('/');
        return text;
    }

    private static string Rule(Microsoft.AspNetCore.Http.Endpoint endpoint)
    {
        if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            return "anonymous";
        }

        var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy ?? "(default)").Distinct().ToList();
        return policies.Count == 0 ? "(no authorization)" : string.Join("+", policies);
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private Task<(int ExitCode, string Output)> RunApiAsync(string[] arguments) => ApiProcess.RunAsync(arguments, api.ConnectionString);
}
