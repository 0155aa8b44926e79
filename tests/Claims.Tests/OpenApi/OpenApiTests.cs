using Claims.Tests.Infrastructure;

namespace Claims.Tests;

public sealed class OpenApiTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = api.CreateClient();

    [Fact]
    public async Task TheDocumentIsOpenApiJsonForTheClaimsApi()
    {
        var response = await _client.GetAsync("/swagger/v1/swagger.json");

        var document = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("3.", document.Str("openapi"), StringComparison.Ordinal);
        Assert.Equal("Claims API", document.GetProperty("info").Str("title"));
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/claims", paths);
        Assert.Contains("/claims/{id}/evidence", paths);
        Assert.Contains("/claims/{id}/status", paths);
        Assert.Contains("/sources/{id}", paths);
    }

    [Fact]
    public async Task EveryOperationHasASummaryAndDeclaresItsResponses()
    {
        var document = await DocumentAsync();

        var operations = ServedDocument.Operations(document).ToList();

        Assert.True(operations.Count >= 17, $"Only {operations.Count} operations documented.");
        Assert.All(operations, op =>
        {
            Assert.True(op.Operation.TryGetProperty("summary", out var summary) && !string.IsNullOrWhiteSpace(summary.GetString()),
                $"{op.Method} {op.Path} has no summary.");
            var responses = op.Operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToList();
            Assert.True(responses.Any(code => code.StartsWith('2')), $"{op.Method} {op.Path} declares no success response: {string.Join(", ", responses)}");
            if (op.Path.Contains("{id}", StringComparison.Ordinal))
            {
                Assert.True(responses.Contains("404"), $"{op.Method} {op.Path} names a claim or source by id but does not declare 404.");
            }
        });
    }

    [Theory]
    [InlineData("/claims", "post", "400")]
    [InlineData("/claims", "post", "201")]
    [InlineData("/claims/{id}/status", "put", "400")]
    [InlineData("/claims/{id}/status", "put", "404")]
    [InlineData("/claims/{id}/status", "put", "409")]
    [InlineData("/claims/{id}", "get", "404")]
    [InlineData("/claims/{id}/evidence", "post", "404")]
    [InlineData("/claims/{id}/evidence/{evidenceId}", "delete", "409")]
    [InlineData("/sources/{id}", "delete", "409")]
    [InlineData("/claims", "post", "415")]
    [InlineData("/sources/{id}", "put", "415")]
    [InlineData("/claims/{id}/status", "get", "503")]
    public async Task OperationsDeclareTheErrorsTheyAnswerWith(string path, string method, string status)
    {
        var document = await DocumentAsync();

        var responses = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses");

        Assert.True(responses.TryGetProperty(status, out var response),
            $"{method.ToUpperInvariant()} {path} does not declare {status}; it declares {string.Join(", ", responses.EnumerateObject().Select(r => r.Name))}.");
        if (status[0] == '4')
        {
            Assert.True(response.GetProperty("content").TryGetProperty("application/problem+json", out _),
                $"{method.ToUpperInvariant()} {path} {status} is not declared as application/problem+json: {response}");
        }
    }

    [Fact]
    public async Task EveryWriteDeclaresTheUnconfirmedCommit504AndNoReadDoes()
    {
        var document = await DocumentAsync();

        var unconfirmed = ServedDocument.Operations(document)
            .Where(op => op.Operation.GetProperty("responses").TryGetProperty("504", out _))
            .Select(op => $"{op.Method} {op.Path}")
            .Order(StringComparer.Ordinal);

        Assert.Equal(
            [
                "DELETE /admin/keys/{id}", "DELETE /claims/{id}", "DELETE /claims/{id}/evidence/{evidenceId}",
                "DELETE /claims/{id}/relations/{relationId}", "DELETE /desk/session", "DELETE /sources/{id}",
                "DELETE /sources/{id}/relations/{relationId}", "DELETE /webhooks/{id}",
                "PATCH /claims/{id}", "PATCH /sources/{id}",
                "POST /admin/keys", "POST /claims", "POST /claims/{id}/evidence", "POST /claims/{id}/relations", "POST /desk/session", "POST /imports", "POST /sources",
                "POST /sources/{id}/relations", "POST /webhooks", "POST /webhooks/{id}/deliveries/{deliveryId}/retry", "POST /webhooks/{id}/rotate-secret", "POST /webhooks/{id}/test",
                "PUT /claims/{id}", "PUT /claims/{id}/status", "PUT /sources/{id}",
            ],
            unconfirmed);
        var claim = document.GetProperty("paths").GetProperty("/claims").GetProperty("post").GetProperty("responses").GetProperty("504");
        Assert.True(claim.GetProperty("content").TryGetProperty("application/problem+json", out _), $"504 is not a problem: {claim}");
    }

    [Theory]
    [InlineData("ClaimStatus", "unverified,in_review,confirmed,disputed,false,inconclusive")]
    [InlineData("Stance", "asserts,supports,refutes,unable_to_verify,mentions")]
    [InlineData("SourceKind", "person,outlet,government,organization,document,social_media,anonymous")]
    [InlineData("Reliability", "A,B,C,D,E,F")]
    public async Task EnumerationSchemasListTheValuesAsTheApiWritesThem(string schema, string values)
    {
        var document = await DocumentAsync();

        var definition = Schema(document, schema);

        Assert.Equal("string", definition.GetProperty("type").GetString());
        Assert.Equal(values.Split(','), definition.GetProperty("enum").EnumerateArray().Select(v => v.ToString()));
    }

    [Theory]
    [InlineData("CreateClaimRequest", "Russia")]
    [InlineData("ClaimRequest", "Lloyd Austin")]
    [InlineData("Claim", "there is evidence")]
    [InlineData("SourceRequest", "Lloyd Austin")]
    [InlineData("Source", "US Secretary of Defense")]
    [InlineData("EvidenceRequest", "there is evidence")]
    [InlineData("EvidenceItem", "Lloyd Austin")]
    [InlineData("StatusChangeRequest", "second, independent source")]
    [InlineData("ClaimStatusView", "evidenceCounts")]
    [InlineData("StatusChange", "in_review")]
    [InlineData("WebhookRequest", "claim.status_changed")]
    [InlineData("Webhook", "partner.example.org")]
    [InlineData("WebhookWithSecret", "whsec_")]
    [InlineData("WebhookDelivery", "msg_")]
    [InlineData("DeliveryAttempt", "503")]
    public async Task SchemasCarryExamplesFromTheSeedStory(string schema, string words)
    {
        var document = await DocumentAsync();

        Assert.True(Schema(document, schema).TryGetProperty("example", out var example), $"{schema} has no example.");

        Assert.Equal(JsonValueKind.Object, example.ValueKind);
        Assert.Contains(words, example.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExamplesSpellEnumerationsAsTheApiDoes()
    {
        var document = await DocumentAsync();

        var claim = Schema(document, "Claim").GetProperty("example");
        var evidence = Schema(document, "EvidenceItem").GetProperty("example");
        var change = Schema(document, "StatusChangeRequest").GetProperty("example");
        var request = Schema(document, "CreateClaimRequest").GetProperty("example");

        Assert.Equal("in_review", claim.Str("status"));
        Assert.Equal("asserts", evidence.Str("stance"));
        Assert.Equal("person", evidence.GetProperty("source").Str("kind"));
        Assert.Equal("B", evidence.GetProperty("source").Str("reliability"));
        Assert.Equal("in_review", change.Str("status"));
        Assert.Equal(Story.Training, request.Str("statement"));
        Assert.Equal("asserts", request.GetProperty("evidence")[0].Str("stance"));
    }

    [Fact]
    public async Task TheCreateClaimExampleIsAcceptedByTheApi()
    {
        var document = await DocumentAsync();
        var example = Schema(document, "CreateClaimRequest").GetProperty("example");
        var source = await _client.SourceAsync();
        var body = example.GetRawText().Replace(
            example.GetProperty("evidence")[0].Str("sourceId"), source.ToString(), StringComparison.Ordinal);

        var created = await (await _client.PostRawAsync("/claims", body)).ReadJsonAsync(HttpStatusCode.Created);

        Assert.Equal(example.Str("statement"), created.Str("statement"));
        Assert.Equal("Lloyd Austin", created.GetProperty("evidence")[0].GetProperty("source").Str("name"));
    }

    [Fact]
    public async Task RequestBodiesReferToTheirSchemas()
    {
        var document = await DocumentAsync();
        var paths = document.GetProperty("paths");

        Assert.Equal("#/components/schemas/CreateClaimRequest", BodySchema(paths.GetProperty("/claims").GetProperty("post")));
        Assert.Equal("#/components/schemas/StatusChangeRequest", BodySchema(paths.GetProperty("/claims/{id}/status").GetProperty("put")));
        Assert.Equal("#/components/schemas/EvidenceRequest", BodySchema(paths.GetProperty("/claims/{id}/evidence").GetProperty("post")));
        Assert.Equal("#/components/schemas/SourceRequest", BodySchema(paths.GetProperty("/sources").GetProperty("post")));
    }

    [Fact]
    public async Task TheSwaggerUiAnswers200Html()
    {
        var response = await _client.GetAsync("/swagger/index.html");

        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<title>Claims API</title>", html, StringComparison.Ordinal);
        Assert.Contains("swagger-ui", html, StringComparison.Ordinal);
    }

    private static string? BodySchema(JsonElement operation) =>
        operation.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString();

    private static JsonElement Schema(JsonElement document, string name)
    {
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.TryGetProperty(name, out var schema),
            $"No schema {name}; there are {string.Join(", ", schemas.EnumerateObject().Select(s => s.Name))}.");
        return schema;
    }

    private Task<JsonElement> DocumentAsync() => _client.ReadDocumentAsync();

    [Theory]
    [InlineData("/claims/{id}", "put", "If-Match", true)]
    [InlineData("/claims/{id}", "delete", "If-Match", true)]
    [InlineData("/sources/{id}", "put", "If-Match", true)]
    [InlineData("/sources/{id}", "delete", "If-Match", true)]
    [InlineData("/claims/{id}/status", "put", "If-Match", true)]
    [InlineData("/claims", "post", "Idempotency-Key", false)]
    [InlineData("/sources", "post", "Idempotency-Key", false)]
    [InlineData("/claims/{id}/evidence", "post", "Idempotency-Key", false)]
    public async Task HeadersThatChangeTheOutcomeAreListedAsParametersForSwaggerUi(string path, string method, string header, bool required)
    {
        var document = await DocumentAsync();

        var parameters = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("parameters").EnumerateArray();
        var parameter = Assert.Single(parameters, p => p.GetProperty("name").GetString() == header);
        Assert.Equal("header", parameter.GetProperty("in").GetString());
        Assert.Equal(required, parameter.TryGetProperty("required", out var r) && r.GetBoolean());
        Assert.False(string.IsNullOrWhiteSpace(parameter.GetProperty("description").GetString()));
    }
}
