using System.Net.Http.Headers;
using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>ETags on claims and sources, and If-Match on every change of them (optimistic concurrency).</summary>
public sealed class ConcurrencyTests(ApiFactory api) : IClassFixture<ApiFactory>
{

    /// <summary>Reads the current ETag itself, as a careful editor does.</summary>
    private readonly HttpClient _careful = api.CreateClient();

    /// <summary>Sends exactly the If-Match the test gives, or none.</summary>
    private readonly HttpClient _raw = api.CreateClient(api.AdminKey, sendCurrentETag: false);

    public static TheoryData<string> Guarded => ["PUT claim", "DELETE claim", "PUT claim status", "PUT source", "DELETE source"];

    [Fact]
    public async Task ClaimAnswersCarryTheirVersionAsAStrongETagFromCreationOn()
    {
        var created = await _raw.PostAsJsonAsync("/claims", new { statement = Story.Training, language = "en" });
        var body = await created.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal(new EntityTagHeaderValue("\"1\""), created.Headers.ETag);
        Assert.Equal(1, body.GetProperty("version").GetInt32());

        var read = await _raw.GetAsync($"/claims/{body.Id()}");
        Assert.Equal("\"1\"", read.Headers.ETag?.Tag);
        Assert.False(read.Headers.ETag!.IsWeak);

        var replaced = await Send(HttpMethod.Put, $"/claims/{body.Id()}", new { statement = Story.Deserted }, "\"1\"");
        var replacedBody = await replaced.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("\"2\"", replaced.Headers.ETag?.Tag);
        Assert.Equal(2, replacedBody.GetProperty("version").GetInt32());
        Assert.Equal("\"2\"", (await _raw.GetAsync($"/claims/{body.Id()}")).Headers.ETag?.Tag);
    }

    [Fact]
    public async Task SourceAnswersCarryTheirVersionAsAStrongETagFromCreationOn()
    {
        var created = await _raw.PostAsJsonAsync("/sources", new { name = "Business Insdier", kind = "outlet", reliability = "C" });
        var body = await created.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal(new EntityTagHeaderValue("\"1\""), created.Headers.ETag);
        Assert.Equal(1, body.GetProperty("version").GetInt32());

        var read = await _raw.GetAsync($"/sources/{body.Id()}");
        Assert.Equal("\"1\"", read.Headers.ETag?.Tag);
        Assert.False(read.Headers.ETag!.IsWeak);

        var replaced = await Send(HttpMethod.Put, $"/sources/{body.Id()}", new { name = "Business Insider", kind = "outlet", reliability = "B" }, "\"1\"");
        var replacedBody = await replaced.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("\"2\"", replaced.Headers.ETag?.Tag);
        Assert.Equal("Business Insider", replacedBody.Str("name"));
        Assert.Equal("\"2\"", (await _raw.GetAsync($"/sources/{body.Id()}")).Headers.ETag?.Tag);
    }

    [Fact]
    public async Task AddingEvidenceMovesTheClaimsETag()
    {
        var suspilne = await _careful.SourceAsync("Suspilne", "outlet", "C");
        var claim = await _careful.ClaimAsync(Story.Deserted);

        await (await _raw.PostAsJsonAsync($"/claims/{claim}/evidence", Story.Evidence(suspilne, "asserts", "18 soldiers deserted")))
            .ReadJsonAsync(HttpStatusCode.Created);

        var read = await _raw.GetAsync($"/claims/{claim}");
        Assert.Equal("\"2\"", read.Headers.ETag?.Tag);
        var stale = await Send(HttpMethod.Put, $"/claims/{claim}", new { statement = "Eighteen North Korean soldiers deserted." }, "\"1\"");
        Assert.Equal("\"2\"", (await stale.ReadProblemAsync(HttpStatusCode.PreconditionFailed)).Str("currentETag"));
        Assert.Equal(Story.Deserted, (await read.ReadJsonAsync(HttpStatusCode.OK)).Str("statement"));
    }

    [Theory]
    [MemberData(nameof(Guarded))]
    public async Task WithoutIfMatchAChangeIs428ProblemAndChangesNothing(string change)
    {
        var target = await TargetAsync(change);
        var before = await SnapshotAsync(target);

        var response = await Send(target.Method, target.Url, target.Body, ifMatch: null);

        var problem = await response.ReadProblemAsync(HttpStatusCode.PreconditionRequired);
        Assert.Contains("If-Match", problem.Str("title") + problem.Str("detail"));
        Assert.Equal(before, await SnapshotAsync(target));
    }

    [Theory]
    [MemberData(nameof(Guarded))]
    public async Task WithAStaleIfMatchAChangeIs412ProblemTellingTheCurrentETagAndChangesNothing(string change)
    {
        var target = await TargetAsync(change);
        // Someone else's edit moves the version to 2.
        if (target.Resource.StartsWith("/sources", StringComparison.Ordinal))
        {
            await (await _careful.PutAsJsonAsync(target.Resource, new { name = "Hromadske", kind = "outlet", reliability = "B" })).ReadJsonAsync(HttpStatusCode.OK);
        }
        else
        {
            await (await _careful.PutAsJsonAsync(target.Resource, new { statement = Story.Deserted })).ReadJsonAsync(HttpStatusCode.OK);
        }

        var before = await SnapshotAsync(target);

        var response = await Send(target.Method, target.Url, target.Body, "\"1\"");

        var problem = await response.ReadProblemAsync(HttpStatusCode.PreconditionFailed);
        Assert.Equal("\"2\"", problem.Str("currentETag"));
        Assert.Contains("\"2\"", problem.Str("detail"));
        Assert.Equal(before, await SnapshotAsync(target));
    }

    public static TheoryData<string, string> GuardedWithUnusableIfMatch() => new()
    {
        { "PUT claim", "*" },
        { "PUT claim", "\"7\", \"1\"" },
        { "PUT claim", "junk" },
        { "DELETE claim", "*" },
        { "PUT source", "*" },
        { "PUT source", "\"1\", \"2\"" },
        { "DELETE source", "*" },
        { "DELETE source", "\"1\",\"1\"" },
        { "PUT claim status", "*" },
        { "PUT claim status", "\"1\", \"2\"" },
    };

    [Theory]
    [MemberData(nameof(GuardedWithUnusableIfMatch))]
    public async Task IfMatchStarOrAListOfTagsIs428AskingForTheOneETagOfTheLastReadAndChangesNothing(string change, string ifMatch)
    {
        var target = await TargetAsync(change);
        var before = await SnapshotAsync(target);

        // The current ETag is "1", so each of these would have matched under "any of them".
        var response = await Send(target.Method, target.Url, target.Body, ifMatch);

        var problem = await response.ReadProblemAsync(HttpStatusCode.PreconditionRequired);
        Assert.Contains("exactly one ETag", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Contains("\"*\" and lists of tags are refused", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync(target));
    }

    [Fact]
    public async Task AWeakETagNeverMatchesIfMatch()
    {
        var claim = await _careful.ClaimAsync(Story.Training);

        var response = await Send(HttpMethod.Put, $"/claims/{claim}", new { statement = Story.Deserted }, "W/\"1\"");

        Assert.Equal("\"1\"", (await response.ReadProblemAsync(HttpStatusCode.PreconditionFailed)).Str("currentETag"));
        Assert.Equal(Story.Training, (await (await _raw.GetAsync($"/claims/{claim}")).ReadJsonAsync(HttpStatusCode.OK)).Str("statement"));
    }

    [Fact]
    public async Task ChangingTheStatusAcceptsTheETagOfTheStatusAnswer()
    {
        var claim = await _careful.ClaimAsync(Story.Training);
        var status = await _raw.GetAsync($"/claims/{claim}/status");
        var etag = status.Headers.ETag!;
        Assert.NotEqual("\"1\"", etag.Tag);

        var response = await Send(HttpMethod.Put, $"/claims/{claim}/status", new { status = "in_review", note = "Seeking a second source." }, etag.ToString());

        var body = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("in_review", body.Str("status"));
        var now = await _raw.GetAsync($"/claims/{claim}/status");
        Assert.Equal(now.Headers.ETag, response.Headers.ETag);
        Assert.NotEqual(etag, now.Headers.ETag);
        var history = await (await _raw.GetAsync($"/claims/{claim}/history")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(["unverified", "in_review"], history.GetProperty("items").EnumerateArray().Select(h => h.Str("toStatus")));
    }

    [Fact]
    public async Task AStatusETagReadBeforeNewEvidenceIsStale()
    {
        var hromadske = await _careful.SourceAsync("Hromadske", "outlet", "C");
        var claim = await _careful.ClaimAsync(Story.Deserted);
        var etag = (await _raw.GetAsync($"/claims/{claim}/status")).Headers.ETag!;
        await (await _careful.PostAsJsonAsync($"/claims/{claim}/evidence", Story.Evidence(hromadske, "refutes", "no desertions recorded")))
            .ReadJsonAsync(HttpStatusCode.Created);

        var response = await Send(HttpMethod.Put, $"/claims/{claim}/status", new { status = "false", note = "Hromadske found no desertions." }, etag.ToString());

        var problem = await response.ReadProblemAsync(HttpStatusCode.PreconditionFailed);
        Assert.Equal("\"2\"", problem.Str("currentETag"));
        var status = await (await _raw.GetAsync($"/claims/{claim}/status")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("unverified", status.Str("status"));
        Assert.Equal(1, status.GetProperty("evidenceCounts").GetProperty("refutes").GetInt32());
    }

    [Fact]
    public async Task AnEditorWhoReadBeforeAnotherEditorsChangeGets412AndSucceedsAfterReadingAgain()
    {
        var suspilne = await KeyClientAsync("Suspilne editor");
        var hromadske = await KeyClientAsync("Hromadske editor");
        var claim = await _careful.ClaimAsync(Story.Training);
        var suspilneRead = (await suspilne.GetAsync($"/claims/{claim}")).Headers.ETag!;
        var hromadskeRead = (await hromadske.GetAsync($"/claims/{claim}")).Headers.ETag!;
        Assert.Equal(suspilneRead, hromadskeRead);

        var first = await Send(suspilne, HttpMethod.Put, $"/claims/{claim}",
            new { statement = "Lloyd Austin: there is evidence North Korean soldiers are training in Russia." }, suspilneRead.ToString());
        var second = await Send(hromadske, HttpMethod.Put, $"/claims/{claim}", new { statement = Story.Deserted }, hromadskeRead.ToString());
        var secondStatus = await Send(hromadske, HttpMethod.Put, $"/claims/{claim}/status", new { status = "in_review" }, hromadskeRead.ToString());

        await first.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("\"2\"", (await second.ReadProblemAsync(HttpStatusCode.PreconditionFailed)).Str("currentETag"));
        Assert.Equal("\"2\"", (await secondStatus.ReadProblemAsync(HttpStatusCode.PreconditionFailed)).Str("currentETag"));
        var stored = await (await _raw.GetAsync($"/claims/{claim}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("Lloyd Austin: there is evidence North Korean soldiers are training in Russia.", stored.Str("statement"));
        Assert.Equal("unverified", stored.Str("status"));

        var reread = (await hromadske.GetAsync($"/claims/{claim}")).Headers.ETag!;
        var retried = await Send(hromadske, HttpMethod.Put, $"/claims/{claim}/status", new { status = "in_review" }, reread.ToString());
        Assert.Equal("in_review", (await retried.ReadJsonAsync(HttpStatusCode.OK)).Str("status"));
    }

    [Fact]
    public async Task DeletingACitedSourceWithAStaleETagIs412NotTheCitationConflict()
    {
        var bennett = await _careful.SourceAsync("Bruce W. Bennett");
        await _careful.ClaimAsync(Story.Hostages,
            Story.Evidence(bennett, "asserts", "remain in Pyongyang as a hostage"));
        await (await _careful.PutAsJsonAsync($"/sources/{bennett}", new { name = "Bruce W. Bennett", kind = "person", reliability = "B" }))
            .ReadJsonAsync(HttpStatusCode.OK);

        var stale = await Send(HttpMethod.Delete, $"/sources/{bennett}", null, "\"1\"");
        var current = await Send(HttpMethod.Delete, $"/sources/{bennett}", null, "\"2\"");

        Assert.Equal("\"2\"", (await stale.ReadProblemAsync(HttpStatusCode.PreconditionFailed)).Str("currentETag"));
        Assert.Contains("1 evidence item", (await current.ReadProblemAsync(HttpStatusCode.Conflict)).Str("detail"));
        await (await _raw.GetAsync($"/sources/{bennett}")).ReadJsonAsync(HttpStatusCode.OK);
    }

    private sealed record Target(HttpMethod Method, string Url, object? Body, string Resource);

    /// <summary>A claim or source at version 1 and the change of it to try.</summary>
    private async Task<Target> TargetAsync(string change)
    {
        if (change.EndsWith("source", StringComparison.Ordinal))
        {
            var source = await _careful.SourceAsync("Hromadske", "outlet", "C");
            var url = $"/sources/{source}";
            return change.StartsWith("PUT", StringComparison.Ordinal)
                ? new Target(HttpMethod.Put, url, new { name = "Hromadske", kind = "outlet", reliability = "B" }, url)
                : new Target(HttpMethod.Delete, url, null, url);
        }

        var claim = await _careful.ClaimAsync(Story.Training);
        var resource = $"/claims/{claim}";
        return change switch
        {
            "PUT claim" => new Target(HttpMethod.Put, resource, new { statement = "Lloyd Austin: there is evidence North Korean troops are in Russia." }, resource),
            "DELETE claim" => new Target(HttpMethod.Delete, resource, null, resource),
            _ => new Target(HttpMethod.Put, $"{resource}/status", new { status = "in_review", note = "Seeking a second source." }, resource),
        };
    }

    /// <summary>Everything the change could touch, as raw JSON: the resource, and a claim's history.</summary>
    private async Task<string> SnapshotAsync(Target target)
    {
        var resource = await _raw.GetAsync(target.Resource);
        var text = await resource.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, resource.StatusCode);
        if (target.Resource.StartsWith("/claims", StringComparison.Ordinal))
        {
            text += "\n" + await (await _raw.GetAsync($"{target.Resource}/history")).Content.ReadAsStringAsync();
        }

        return text;
    }

    private Task<HttpResponseMessage> Send(HttpMethod method, string url, object? body, string? ifMatch) => Send(_raw, method, url, body, ifMatch);

    private static Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string url, object? body, string? ifMatch)
    {
        var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return client.SendAsync(request);
    }

    private async Task<HttpClient> KeyClientAsync(string name)
    {
        var key = await (await _careful.PostAsJsonAsync("/admin/keys", new { name, role = "editor" })).ReadJsonAsync(HttpStatusCode.Created);
        return api.CreateClient(key.Str("key"), sendCurrentETag: false);
    }
}
