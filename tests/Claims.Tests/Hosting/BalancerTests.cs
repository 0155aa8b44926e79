using System.Net;
using System.Net.Http.Headers;
using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// Two API processes behind Debian's nginx with the repository's configuration: a client going
/// through the balancer sees one service, whichever instance answers each request (nginx
/// alternates them; both instances' own /metrics show they served the same route).
/// </summary>
public sealed class BalancerTests(Balancer balancer) : IClassFixture<Balancer>
{
    [Fact]
    public async Task CursorsETagsAndReplaysHoldWhicheverInstanceAnswers()
    {
        using var client = balancer.CreateClient();
        var tag = "lb-" + Guid.NewGuid().ToString("N")[..8];
        var logged = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var created = await client.PostAsJsonAsync("/claims", new { statement = $"Troops were seen near Kursk, report {i}.", tags = new[] { tag } });
            logged.Add((await created.ReadJsonAsync(HttpStatusCode.Created)).Id());
        }

        // Paged two at a time: each next page may come from the other instance, which must accept the cursor.
        var paged = new List<Guid>();
        var url = $"/claims?tag={tag}&limit=2";
        for (var page = 0; page < 5 && url is not null; page++)
        {
            var body = await (await client.GetAsync(url)).ReadJsonAsync(HttpStatusCode.OK);
            paged.AddRange(body.Items().Select(c => c.Id()));
            url = body.GetProperty("nextCursor").GetString() is { } cursor ? $"/claims?tag={tag}&limit=2&cursor={Uri.EscapeDataString(cursor)}" : null;
        }

        Assert.Equal(Enumerable.Reverse(logged), paged);

        // If-Match with the ETag one instance gave is honoured by the other; a stale one is 412 on either.
        var read = await client.GetAsync($"/claims/{logged[0]}");
        var etag = read.Headers.ETag!;
        var replaced = await PutAsync(client, logged[0], etag, "Troops were seen near Kursk, report 0 (corrected).");
        var stale = await PutAsync(client, logged[0], etag, "Troops were seen near Kursk, report 0 (again).");
        Assert.Equal("Troops were seen near Kursk, report 0 (corrected).", (await replaced.ReadJsonAsync(HttpStatusCode.OK)).Str("statement"));
        Assert.Equal("/problems/version-mismatch", (await stale.ReadProblemAsync(HttpStatusCode.PreconditionFailed)).Str("type"));

        // The same Idempotency-Key twice: the second answer is the first, replayed, whichever instance has it.
        var key = Guid.NewGuid().ToString();
        var first = await PostOnceAsync(client, key, tag);
        var second = await PostOnceAsync(client, key, tag);
        Assert.Equal((await first.ReadJsonAsync(HttpStatusCode.Created)).Id(), (await second.ReadJsonAsync(HttpStatusCode.Created)).Id());
        Assert.Equal("true", Assert.Single(second.Headers.GetValues("Idempotent-Replayed")));

        Assert.True(await ServedListsAsync(balancer.A), "Instance A served no GET /claims.");
        Assert.True(await ServedListsAsync(balancer.B), "Instance B served no GET /claims.");
    }

    [Fact]
    public async Task AnEventStreamIsPassedThroughAsItComes()
    {
        using var client = balancer.CreateClient();
        var claim = await client.ClaimAsync(Story.Troops);
        await using var stream = await EventStreamReader.OpenAsync(client, $"/events/stream?claimId={claim}&fromNow=true");

        var etag = (await client.GetAsync($"/claims/{claim}")).Headers.ETag!;
        var move = new HttpRequestMessage(HttpMethod.Put, $"/claims/{claim}/status") { Content = JsonContent.Create(new { status = "in_review" }) };
        move.Headers.IfMatch.Add(etag);
        await (await client.SendAsync(move)).ReadJsonAsync(HttpStatusCode.OK);

        var received = await stream.NextEventAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("claim.status_changed", received.EventType);
        Assert.Equal("text/event-stream", stream.Response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task EachClientAddressBehindTheBalancerHasItsOwnLimitOfFailedKeys()
    {
        // Each instance refuses an address after 3 failures a minute; nginx alternates the
        // instances, so ten failures from one address leave both refusing it.
        using var guesser = balancer.CreateClient("not-a-key-" + Guid.NewGuid().ToString("N"), IPAddress.Parse("127.0.0.2"));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            statuses.Add((await guesser.GetAsync("/claims")).StatusCode);
        }

        using var neighbour = balancer.CreateClient("not-a-key-" + Guid.NewGuid().ToString("N"), IPAddress.Parse("127.0.0.3"));
        var other = await neighbour.GetAsync("/claims");

        Assert.Equal([HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses[^2..]);
        Assert.Equal("/problems/too-many-failed-keys", (await (await guesser.GetAsync("/claims")).ReadProblemAsync(HttpStatusCode.TooManyRequests)).Str("type"));
        // Another client of the same balancer is judged on its own failures, not the guesser's.
        Assert.Equal("/problems/unauthenticated", (await other.ReadProblemAsync(HttpStatusCode.Unauthorized)).Str("type"));
    }

    [Fact]
    public async Task AKeysRateLimitIsTheLimitWhicheverInstanceAnswers()
    {
        using var admin = balancer.CreateClient();
        var minted = await (await admin.PostAsJsonAsync("/admin/keys", new { name = "limited " + Guid.NewGuid().ToString("N")[..8], role = "reader" })).ReadJsonAsync(HttpStatusCode.Created);
        using var client = balancer.CreateClient(minted.Str("key"), IPAddress.Loopback);
        await RateLimitFields.AtLeastLeftInTheMinuteAsync(admin);

        // nginx alternates the two instances; counted by each alone, the key would get twice its quota.
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < Balancer.RequestsPerMinute * 3 / 2; i++)
        {
            answers.Add((await client.GetAsync("/claims?limit=1")).StatusCode);
        }

        Assert.Equal(Balancer.RequestsPerMinute, answers.Count(s => s == HttpStatusCode.OK));
        // An instance may refuse while the other still holds a few permits of its last batch (at
        // most a batch and a half: 10 at this quota), which it serves next; 50 later, both refuse.
        Assert.All(answers.Skip(Balancer.RequestsPerMinute + 50), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        Assert.True(await ServedListsAsync(balancer.A) && await ServedListsAsync(balancer.B));
    }

    [Fact]
    public async Task AKeyRevokedThroughTheBalancerIsRefusedByBothInstances()
    {
        using var admin = balancer.CreateClient();
        var minted = await (await admin.PostAsJsonAsync("/admin/keys", new { name = "revoked " + Guid.NewGuid().ToString("N")[..8], role = "reader" })).ReadJsonAsync(HttpStatusCode.Created);
        // An address of its own: each instance refuses an address's keys after 3 failures a minute,
        // and the revoked key's refusals must not count against the other tests' clients.
        using var client = balancer.CreateClient(minted.Str("key"), IPAddress.Parse("127.0.0.5"));
        // Both instances have checked the key and remember it.
        for (var i = 0; i < 4; i++)
        {
            await (await client.GetAsync("/claims?limit=1")).ReadJsonAsync(HttpStatusCode.OK);
        }

        (await admin.DeleteAsync($"/admin/keys/{minted.Id()}")).EnsureSuccessStatusCode();

        // Each instance hears of the revocation within a second (KeyRevocationTests); after that,
        // whichever answers refuses the key.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(2) && (await client.GetAsync("/claims?limit=1")).StatusCode != HttpStatusCode.Unauthorized)
        {
            await Task.Delay(100);
        }

        await Task.Delay(1000);
        // One request for each instance: with the first refusal, three failures in all, under the limit of either.
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal("/problems/unauthenticated", (await (await client.GetAsync("/claims?limit=1")).ReadProblemAsync(HttpStatusCode.Unauthorized)).Str("type"));
        }
    }

    private static Task<HttpResponseMessage> PutAsync(HttpClient client, Guid claim, EntityTagHeaderValue etag, string statement)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"/claims/{claim}") { Content = JsonContent.Create(new { statement }) };
        request.Headers.IfMatch.Add(etag);
        return client.SendAsync(request);
    }

    private static Task<HttpResponseMessage> PostOnceAsync(HttpClient client, string key, string tag)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/claims") { Content = JsonContent.Create(new { statement = "Troops crossed near Sudzha.", tags = new[] { tag } }) };
        request.Headers.Add("Idempotency-Key", key);
        return client.SendAsync(request);
    }

    private static async Task<bool> ServedListsAsync(ApiServer instance)
    {
        using var direct = instance.CreateClient(instance.AdminKey);
        var metrics = await (await direct.GetAsync("/metrics")).Content.ReadAsStringAsync();
        return metrics.Split('\n').Any(l => l.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
            && l.Contains("http_route=\"/claims/\"", StringComparison.Ordinal) && l.Contains("http_request_method=\"GET\"", StringComparison.Ordinal));
    }
}
