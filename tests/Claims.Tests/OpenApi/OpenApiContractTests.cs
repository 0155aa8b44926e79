using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// The document says exactly what the API does, in the places generated clients read: problem
/// bodies, response headers, required and nullable properties, shared enumerations, servers,
/// health, roles, and schemas that answers may extend.
/// </summary>
public sealed class OpenApiContractTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task EveryErrorThatHasABodyDeclaresItAsAProblem()
    {
        var document = await DocumentAsync();

        var errors = (from op in ServedDocument.Operations(document)
                      from response in op.Operation.GetProperty("responses").EnumerateObject()
                      where response.Name.Length == 3 && response.Name[0] is '4' or '5' && !response.Name.Contains('X')
                      select (op, response)).ToList();
        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.True(
            ProblemSchema(e.response.Value) is "#/components/schemas/ProblemDetails" or "#/components/schemas/HttpValidationProblemDetails",
            $"{e.op.Method} {e.op.Path} {e.response.Name}: {ProblemSchema(e.response.Value)}"));
    }

    [Theory]
    [InlineData("401")]
    [InlineData("403")]
    [InlineData("429")]
    [InlineData("500")]
    [InlineData("503")]
    public async Task TheStatusesThePipelineAnswersCarryTheProblemBody(string status)
    {
        var document = await DocumentAsync();

        var response = document.GetProperty("paths").GetProperty("/claims").GetProperty("get").GetProperty("responses").GetProperty(status);

        Assert.Equal("#/components/schemas/ProblemDetails", ProblemSchema(response));
    }

    [Fact]
    public async Task AProblemSaysWhichFieldsItAlwaysHas()
    {
        var schemas = (await DocumentAsync()).GetProperty("components").GetProperty("schemas");

        var problem = schemas.GetProperty("ProblemDetails");
        Assert.Equal(["requestId", "status", "title", "traceId", "type"], Required(problem));
        Assert.Equal("uri-reference", problem.GetProperty("properties").GetProperty("type").Str("format"));
        Assert.Contains("errors", Required(schemas.GetProperty("HttpValidationProblemDetails")));
    }

    [Theory]
    [InlineData("/claims/{id}", "get", "200", "ETag")]
    [InlineData("/claims/{id}", "get", "304", "ETag")]
    [InlineData("/claims/{id}", "put", "200", "ETag")]
    [InlineData("/claims/{id}", "patch", "200", "ETag")]
    [InlineData("/sources/{id}", "get", "200", "ETag")]
    [InlineData("/claims/{id}/status", "get", "200", "ETag")]
    [InlineData("/claims/{id}/status", "get", "304", "ETag")]
    [InlineData("/claims", "post", "201", "Location")]
    [InlineData("/claims", "post", "201", "ETag")]
    [InlineData("/claims", "post", "201", "Idempotent-Replayed")]
    [InlineData("/claims/{id}/evidence", "post", "201", "Location")]
    [InlineData("/claims", "get", "200", "Link")]
    [InlineData("/sources/{id}/claims", "get", "200", "Link")]
    [InlineData("/claims/{id}/history", "get", "200", "Link")]
    [InlineData("/claims", "get", "429", "Retry-After")]
    [InlineData("/claims", "get", "503", "Retry-After")]
    [InlineData("/claims", "get", "200", "RateLimit")]
    [InlineData("/claims", "get", "200", "RateLimit-Policy")]
    [InlineData("/claims", "get", "429", "RateLimit")]
    [InlineData("/claims/{id}", "get", "404", "X-Request-Id")]
    public async Task ResponseHeadersAreDeclared(string path, string method, string status, string header)
    {
        var document = await DocumentAsync();

        var headers = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses").GetProperty(status).GetProperty("headers");

        Assert.Equal($"#/components/headers/{header}", headers.GetProperty(header).Str("$ref"));
        var declared = document.GetProperty("components").GetProperty("headers").GetProperty(header);
        Assert.False(string.IsNullOrWhiteSpace(declared.Str("description")));
        Assert.Equal("string", declared.GetProperty("schema").Str("type"));
    }

    [Fact]
    public async Task EveryAnswerDeclaresItsRequestId()
    {
        var document = await DocumentAsync();

        var responses = (from op in ServedDocument.Operations(document)
                         from response in op.Operation.GetProperty("responses").EnumerateObject()
                         where response.Name != "4XX"
                         select (op.Path, op.Method, response)).ToList();
        Assert.All(responses, r => Assert.True(r.response.Value.TryGetProperty("headers", out var h) && h.TryGetProperty("X-Request-Id", out _),
            $"{r.Method} {r.Path} {r.response.Name} does not declare X-Request-Id."));
    }

    [Fact]
    public async Task AnAnswersPropertiesAreRequiredExceptThoseThatComeOnlyWithEvidence()
    {
        var schemas = (await DocumentAsync()).GetProperty("components").GetProperty("schemas");

        var claim = schemas.GetProperty("Claim");
        var properties = claim.GetProperty("properties").EnumerateObject().Select(p => p.Name).ToList();
        // canonicalClaimId comes only with a claim recorded as a duplicate.
        Assert.Equal(properties.Where(p => p is not ("evidence" or "independentOrigins" or "origins" or "canonicalClaimId")).Order(), Required(claim));
        Assert.Equal(["id", "kind", "name", "reliability", "version"], Required(schemas.GetProperty("Source")).Intersect(["id", "name", "kind", "reliability", "version"]).Order());
        Assert.Contains("items", Required(schemas.GetProperty("ClaimPage")));
        Assert.Contains("nextCursor", Required(schemas.GetProperty("ClaimPage")));
        // A request's optional fields stay optional.
        Assert.Equal(["statement"], Required(schemas.GetProperty("ClaimRequest")));
        Assert.False(schemas.GetProperty("ClaimPatch").TryGetProperty("required", out _), "A merge patch has no required field.");
    }

    [Fact]
    public async Task NullIsAllowedExactlyWhereItIsSent()
    {
        var schemas = (await DocumentAsync()).GetProperty("components").GetProperty("schemas");

        var change = schemas.GetProperty("StatusChange").GetProperty("properties");
        var from = change.GetProperty("fromStatus");
        Assert.True(from.GetProperty("nullable").GetBoolean());
        Assert.Equal("#/components/schemas/ClaimStatus", from.GetProperty("allOf")[0].Str("$ref"));
        Assert.Equal("#/components/schemas/ClaimStatus", change.GetProperty("toStatus").Str("$ref"));
        var claim = schemas.GetProperty("Claim").GetProperty("properties");
        Assert.True(claim.GetProperty("summary").GetProperty("nullable").GetBoolean());
        Assert.True(claim.GetProperty("firstReportedOn").GetProperty("nullable").GetBoolean());
        Assert.False(claim.GetProperty("statement").TryGetProperty("nullable", out _));
        Assert.False(claim.GetProperty("version").TryGetProperty("nullable", out _));
    }

    [Fact]
    public async Task TheFirstHistoryEntryReallyHasANullFromStatus()
    {
        var claim = await (await _client.PostAsJsonAsync("/claims", new { statement = Story.Training })).ReadJsonAsync(HttpStatusCode.Created);

        var history = await (await _client.GetAsync($"/claims/{claim.Id()}/history")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(JsonValueKind.Null, history.GetProperty("items")[0].GetProperty("fromStatus").ValueKind);
    }

    [Theory]
    [InlineData("/claims", "status", "ClaimStatus")]
    [InlineData("/claims", "stance", "Stance")]
    [InlineData("/claims", "sort", "ClaimSort")]
    [InlineData("/sources", "kind", "SourceKind")]
    [InlineData("/sources", "reliability", "Reliability")]
    public async Task QueryEnumerationsReferToTheSharedSchemas(string path, string name, string schema)
    {
        var document = await DocumentAsync();

        var parameter = document.GetProperty("paths").GetProperty(path).GetProperty("get").GetProperty("parameters").EnumerateArray()
            .Single(p => p.Str("name") == name).GetProperty("schema");
        var reference = parameter.TryGetProperty("items", out var items) ? items : parameter;
        Assert.Equal($"#/components/schemas/{schema}", reference.Str("$ref"));
        Assert.NotEmpty(document.GetProperty("components").GetProperty("schemas").GetProperty(schema).GetProperty("enum").EnumerateArray());
    }

    [Fact]
    public async Task TheSortOrdersAreTheOnesTheApiTakes()
    {
        var document = await DocumentAsync();

        var sorts = document.GetProperty("components").GetProperty("schemas").GetProperty("ClaimSort").GetProperty("enum").EnumerateArray().Select(v => v.GetString()).ToList();

        Assert.Equal(["-updatedAt", "-createdAt", "-firstReportedOn", "relevance"], sorts);
        var typo = await _client.GetAsync("/claims?sort=-updatedat");
        Assert.Contains("-updatedAt", (await typo.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors("sort")[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheServerIsWhereTheDocumentCameFromAndNamesItsEnvironment()
    {
        var servers = (await DocumentAsync()).GetProperty("servers");

        var server = Assert.Single(servers.EnumerateArray());
        Assert.Equal("/", server.Str("url"));
        Assert.False(server.GetProperty("x-internal").GetBoolean());
        Assert.Contains("(local development)", server.Str("description"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task HealthEndpointsAreDocumentedAsTheyAnswer(string path)
    {
        var document = await DocumentAsync();

        var operation = document.GetProperty("paths").GetProperty(path).GetProperty("get");
        Assert.Equal(0, operation.GetProperty("security").GetArrayLength());
        Assert.Equal("#/components/schemas/HealthAnswer", operation.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema").Str("$ref"));
        Assert.Equal("#/components/schemas/ProblemDetails", ProblemSchema(operation.GetProperty("responses").GetProperty("503")));
        var answer = await (await _client.GetAsync(path)).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("Healthy", answer.Str("status"));
    }

    [Fact]
    public async Task EverySecuredOperationStatesItsRoleForMachinesAndPeople()
    {
        var document = await DocumentAsync();

        var secured = ServedDocument.Operations(document).Where(op => op.Operation.GetProperty("security").GetArrayLength() > 0).ToList();
        Assert.True(secured.Count >= 20, $"Only {secured.Count} secured operations.");
        Assert.All(secured, op =>
        {
            var role = op.Operation.Str("x-required-role");
            Assert.Contains(role, new[] { "reader", "reporter", "editor", "admin" });
            Assert.Contains($"Role: {role} or higher.", op.Operation.Str("description"), StringComparison.Ordinal);
        });
        Assert.Equal("admin", ServedDocument.Operations(document).Single(op => op.Path == "/admin/keys" && op.Method == "POST").Operation.Str("x-required-role"));
        Assert.Equal("editor", ServedDocument.Operations(document).Single(op => op.Path == "/claims/{id}" && op.Method == "DELETE").Operation.Str("x-required-role"));
    }

    [Fact]
    public async Task AnswersMayGrowButRequestsAreClosed()
    {
        var schemas = (await DocumentAsync()).GetProperty("components").GetProperty("schemas");

        foreach (var answer in new[] { "Claim", "Source", "EvidenceItem", "StatusChange", "ClaimStatusView", "ClaimPage", "ProblemDetails" })
        {
            Assert.False(schemas.GetProperty(answer).TryGetProperty("additionalProperties", out var extra) && extra.ValueKind == JsonValueKind.False,
                $"{answer} forbids properties a later version may add.");
        }

        foreach (var request in new[] { "CreateClaimRequest", "ClaimRequest", "SourceRequest", "EvidenceRequest", "StatusChangeRequest", "ClaimPatch" })
        {
            Assert.Equal(JsonValueKind.False, schemas.GetProperty(request).GetProperty("additionalProperties").ValueKind);
        }
    }

    private static string ProblemSchema(JsonElement response) =>
        response.TryGetProperty("content", out var content) && content.TryGetProperty("application/problem+json", out var media)
            ? media.GetProperty("schema").Str("$ref")
            : $"no problem body in {response}";

    private static List<string> Required(JsonElement schema) =>
        schema.TryGetProperty("required", out var required) ? [.. required.EnumerateArray().Select(r => r.GetString()!).Order()] : [];

    private Task<JsonElement> DocumentAsync() => _client.ReadDocumentAsync();
}
