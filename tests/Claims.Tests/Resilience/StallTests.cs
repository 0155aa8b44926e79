using System.Diagnostics;
using System.Net.Http.Headers;
using Claims.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Claims.Tests;

/// <summary>
/// The database fails under a running API in the ways a network shows it: it stops answering,
/// drops every connection, or refuses new ones. Requests already waiting inside the database when
/// that happens, and requests sent afterwards, each answer within the issue's bound, as a 503
/// problem (or a 504 for a write whose COMMIT was on its way); readiness says so within 2 s; and
/// once the database is back, what the API answered agrees with what the database holds.
/// </summary>
[Collection(TimeBound.Name)]
public sealed class StallTests(ITestOutputHelper output)
{
    private static readonly TimeSpan AnswerWithin = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(2);

    /// <summary>Room for every request of one round inside the database at once.</summary>
    private const int PoolSize = 30;

    [Fact]
    public Task WhenTheDatabaseStopsAnsweringEveryRequestAnswersWithinSixSecondsAndNoneAnswered503WroteAnything() =>
        FaultAsync(ProxyMode.Stall);

    [Fact]
    public Task WhenTheDatabaseDropsEveryConnectionEveryRequestAnswersWithinSixSecondsAndNoneAnswered503WroteAnything() =>
        FaultAsync(ProxyMode.Drop);

    [Fact]
    public Task WhenTheDatabaseRefusesConnectionsEveryRequestAnswersWithinSixSecondsAndNoneAnswered503WroteAnything() =>
        FaultAsync(ProxyMode.Refuse);

    private async Task FaultAsync(ProxyMode fault)
    {
        await using var app = await ProxiedApi.StartAsync(PoolSize);
        using var client = app.CreateClient();
        var inFlight = await RoundAsync(client, "in flight");
        var sentEarly = await RoundAsync(client, "sent at the fault");
        var sentLate = await RoundAsync(client, "sent later");
        var healed = await RoundAsync(client, "healed");

        var answers = new List<Answer>();
        var readiness = new List<Answer>();
        await using (await app.LockTablesAsync())
        {
            var waiting = inFlight.Select(call => SendAsync(client, call)).ToList();
            await app.WaitForLockWaitsAsync(inFlight.Count);

            Switch(app.Proxy, fault);
            var early = sentEarly.Select(call => SendAsync(client, call)).ToList();
            readiness.Add(await ReadyAsync(client, "at the fault"));
            answers.AddRange(await Task.WhenAll(waiting));
            answers.AddRange(await Task.WhenAll(early));

            // By now the connections the fault caught are gone: these open new ones.
            answers.AddRange(await Task.WhenAll(sentLate.Select(call => SendAsync(client, call))));
            readiness.Add(await ReadyAsync(client, "later"));
        }

        output.WriteLine($"During the fault ({fault}):\n{Describe(answers.Concat(readiness))}");
        var failures = answers.Select(Check).Concat(readiness.Select(CheckNotReady)).OfType<string>().ToList();
        Assert.True(failures.Count == 0, $"During the fault ({fault}):\n{string.Join("\n", failures)}\n\nEvery answer:\n{Describe(answers.Concat(readiness))}");
        Assert.Contains(answers, a => a.Status == 503);

        app.Proxy.Pass();
        await WaitUntilReadyAsync(client);
        var recovered = await Task.WhenAll(healed.Select(call => SendAsync(client, call)));
        Assert.True(recovered.All(a => a.Status is >= 200 and < 300), $"Once the database is back:\n{Describe(recovered)}");

        // Whatever the proxy held has been delivered and its transactions have ended: compare
        // what was answered with what is stored.
        await app.WaitUntilSettledAsync();
        var disagreements = new List<string>();
        foreach (var answer in answers.Concat(recovered).Where(a => a.Call.Written is not null))
        {
            var written = await app.ScalarAsync<bool>(answer.Call.Written!, answer.Call.Parameters);
            if (answer.Status == 503 && written)
            {
                disagreements.Add($"{answer.Call.Name} ({answer.Call.Phase}) answered 503 but was written.");
            }
            else if (answer.Status is >= 200 and < 300 && !written)
            {
                disagreements.Add($"{answer.Call.Name} ({answer.Call.Phase}) answered {answer.Status} but is not stored.");
            }
        }

        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements));
    }

    [Theory]
    [InlineData(ProxyMode.Stall)]
    [InlineData(ProxyMode.Drop)]
    public async Task AWriteWhoseCommitWasOnItsWayWhenTheDatabaseFailedAnswers504BecauseItMayStillBeStored(ProxyMode fault)
    {
        await using var app = await ProxiedApi.StartAsync(PoolSize);
        using var client = app.CreateClient();
        var claim = await client.ClaimAsync(Story.Training);
        var statement = $"Commit marker {Guid.NewGuid():N}: North Korean soldiers are in Kursk.";

        // A deferred trigger that waits for a lock the test holds keeps this claim's COMMIT inside
        // the server, in flight, for as long as the test wants.
        await app.ExecuteAsync(
            """
            CREATE FUNCTION wait_for_the_test() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN PERFORM pg_advisory_xact_lock(727276); RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER wait_for_the_test AFTER UPDATE ON claims DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW WHEN (NEW.statement LIKE 'Commit marker%') EXECUTE FUNCTION wait_for_the_test();
            """);
        var call = new Call("commit in flight", "PUT /claims/{id}", HttpMethod.Put, $"/claims/{claim}", new { statement }, IfMatch: "\"1\"",
            Written: "SELECT EXISTS (SELECT 1 FROM claims WHERE id = @id AND statement = @m)", Parameters: new { id = claim, m = statement });
        Answer answer;
        await using (var holder = await app.HoldAdvisoryLockAsync(727276))
        {
            var sent = SendAsync(client, call);
            await app.WaitForLockWaitsAsync(1, "COMMIT");
            Switch(app.Proxy, fault);
            // The server completes the COMMIT, but the API cannot hear it.
            await holder.DisposeAsync();
            answer = await sent;
        }

        output.WriteLine($"{fault}: {answer.Elapsed.TotalSeconds:0.00} s {answer.Status} {answer.Body}");
        Assert.True(answer.Elapsed <= AnswerWithin, $"Answered after {answer.Elapsed.TotalSeconds:0.00} s.");
        Assert.True(answer.Status == 504, $"Expected 504, got {answer.Status}: {answer.Body}");
        var problem = Problem(answer)!;
        Assert.Equal(504, problem.Status);
        Assert.Equal("The database did not confirm the write in time.", problem.Title);
        Assert.Contains("may or may not be stored", problem.Detail, StringComparison.Ordinal);
        Assert.NotNull(answer.RetryAfter);

        app.Proxy.Pass();
        await WaitUntilReadyAsync(client);
        await app.WaitUntilSettledAsync();
        Assert.True(await app.ScalarAsync<bool>(call.Written!, call.Parameters), "The COMMIT completed on the server, so the claim should be stored.");
        var stored = await (await client.GetAsync($"/claims/{claim}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(statement, stored.Str("statement"));
    }

    private static void Switch(FaultyProxy proxy, ProxyMode fault)
    {
        switch (fault)
        {
            case ProxyMode.Stall:
                proxy.Stall();
                break;
            case ProxyMode.Drop:
                proxy.Drop();
                break;
            case ProxyMode.Refuse:
                proxy.Refuse();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, null);
        }
    }

    /// <summary>What is wrong with one answer during the fault, or null.</summary>
    private static string? Check(Answer answer)
    {
        var what = $"{answer.Call.Name} ({answer.Call.Phase}) answered {answer.Status} after {answer.Elapsed.TotalSeconds:0.00} s";
        if (answer.Elapsed > AnswerWithin)
        {
            return $"{what}: later than {AnswerWithin.TotalSeconds} s.";
        }

        var problem = Problem(answer);
        return answer.Status switch
        {
            503 when problem?.Detail?.Contains("Nothing was changed", StringComparison.Ordinal) != true =>
                $"{what}: a 503 must be a problem that says nothing was changed: {answer.Body}",
            503 when answer.RetryAfter is null => $"{what}: without Retry-After.",
            503 => null,
            // Every write here was held before its COMMIT (a table lock, or a fault already on), so
            // none can have been applied: 504 would be a 503 misjudged.
            _ => $"{what}: expected 503, since no COMMIT was on its way: {answer.Body}",
        };
    }

    private static string? CheckNotReady(Answer answer)
    {
        var what = $"/health/ready ({answer.Call.Phase}) answered {answer.Status} after {answer.Elapsed.TotalSeconds:0.00} s";
        if (answer.Elapsed > ReadyWithin)
        {
            return $"{what}: later than {ReadyWithin.TotalSeconds} s.";
        }

        if (answer.Status != 503 || answer.ContentType != "application/problem+json" || answer.RetryAfter is null)
        {
            return $"{what}: expected a 503 problem with Retry-After: {answer.Body}";
        }

        using var body = JsonDocument.Parse(answer.Body);
        var postgres = body.RootElement.GetProperty("checks").GetProperty("postgres");
        return postgres.Str("status") == "Unhealthy" && body.RootElement.Str("detail").Contains("postgres", StringComparison.Ordinal)
            ? null
            : $"{what}: the problem must name the failing check: {answer.Body}";
    }

    private static ProblemBody? Problem(Answer answer) =>
        answer.ContentType == "application/problem+json" ? JsonSerializer.Deserialize<ProblemBody>(answer.Body, JsonSerializerOptions.Web) : null;

    private static string Describe(IEnumerable<Answer> answers) => string.Join("\n", answers.Select(a =>
        $"  {a.Elapsed.TotalSeconds,5:0.00} s  {a.Status}  {a.Call.Name} ({a.Call.Phase}): {(a.Body.Length > 160 ? a.Body[..160] : a.Body)}"));

    private static async Task<Answer> SendAsync(HttpClient client, Call call)
    {
        using var request = new HttpRequestMessage(call.Method, call.Url);
        if (call.Body is not null)
        {
            request.Content = JsonContent.Create(call.Body);
        }

        if (call.IfMatch is not null)
        {
            request.Headers.IfMatch.Add(new EntityTagHeaderValue(call.IfMatch));
        }

        // Far beyond the bound: a request that hangs is reported with the others, not left hanging.
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await client.SendAsync(request, giveUp.Token);
            var body = await response.Content.ReadAsStringAsync(giveUp.Token);
            return new Answer(call, (int)response.StatusCode, body, clock.Elapsed,
                response.Content.Headers.ContentType?.MediaType, response.Headers.RetryAfter?.Delta);
        }
        catch (OperationCanceledException) when (giveUp.IsCancellationRequested)
        {
            return new Answer(call, 0, "(no answer)", clock.Elapsed, null, null);
        }
    }

    private static Task<Answer> ReadyAsync(HttpClient client, string phase) =>
        SendAsync(client, new Call(phase, "GET /health/ready", HttpMethod.Get, "/health/ready"));

    private static async Task WaitUntilReadyAsync(HttpClient client)
    {
        var waited = Stopwatch.StartNew();
        var last = "";
        while (waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            var ready = await ReadyAsync(client, "healed");
            if (ready.Status == 200)
            {
                return;
            }

            last = $"{ready.Status} {ready.Body}";
            await Task.Delay(100);
        }

        Assert.Fail($"/health/ready did not answer 200 within 20 s of the proxy passing again; last answer: {last}");
    }

    /// <summary>
    /// One request of every kind, each on records of its own and each write carrying a marker of
    /// its own, with the SQL that tells whether it was written.
    /// </summary>
    private static async Task<List<Call>> RoundAsync(HttpClient client, string phase)
    {
        var cited = await client.SourceAsync($"Suspilne ({phase})", "outlet", "C");
        var renamed = await client.SourceAsync($"Hromadske ({phase})", "outlet", "B");
        var removed = await client.SourceAsync($"Business Insider ({phase})", "outlet", "C");
        var edited = await client.ClaimAsync($"North Korean soldiers are training in Russia ({phase}).");
        var judged = await client.ClaimAsync($"North Korean soldiers are in Kursk ({phase}).");
        var linked = await client.ClaimAsync($"North Korean soldiers have deserted ({phase}).");
        var unlinked = await client.ClaimAsync($"North Korean soldiers were seen in Donetsk ({phase}).", Story.Evidence(cited, "asserts"));
        var deleted = await client.ClaimAsync($"North Korean soldiers have left Russia ({phase}).");
        var evidence = (await (await client.GetAsync($"/claims/{unlinked}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("evidence")[0].Id();
        string Mark() => $"Stall marker {Guid.NewGuid():N}";

        var newClaim = Mark();
        var newSource = Mark();
        var statement = Mark();
        var name = Mark();
        var note = Mark();
        var quote = Mark();
        return
        [
            new(phase, "GET /claims", HttpMethod.Get, "/claims?limit=5"),
            new(phase, "GET /claims/{id}", HttpMethod.Get, $"/claims/{edited}"),
            new(phase, "GET /claims/{id}/status", HttpMethod.Get, $"/claims/{edited}/status"),
            new(phase, "GET /claims/{id}/evidence", HttpMethod.Get, $"/claims/{unlinked}/evidence"),
            new(phase, "GET /claims/{id}/history", HttpMethod.Get, $"/claims/{edited}/history"),
            new(phase, "GET /sources", HttpMethod.Get, "/sources?limit=5"),
            new(phase, "GET /sources/{id}", HttpMethod.Get, $"/sources/{cited}"),
            new(phase, "POST /claims/statuses", HttpMethod.Post, "/claims/statuses", new { ids = new[] { edited, judged, linked } }),
            new(phase, "POST /claims", HttpMethod.Post, "/claims", new { statement = newClaim, evidence = new[] { Story.Evidence(cited, "asserts") } },
                Written: "SELECT EXISTS (SELECT 1 FROM claims WHERE statement = @m)", Parameters: new { m = newClaim }),
            new(phase, "POST /sources", HttpMethod.Post, "/sources", new { name = newSource, kind = "outlet" },
                Written: "SELECT EXISTS (SELECT 1 FROM sources WHERE name = @m)", Parameters: new { m = newSource }),
            new(phase, "PUT /claims/{id}", HttpMethod.Put, $"/claims/{edited}", new { statement }, IfMatch: "\"1\"",
                Written: "SELECT EXISTS (SELECT 1 FROM claims WHERE id = @id AND statement = @m)", Parameters: new { id = edited, m = statement }),
            new(phase, "PUT /sources/{id}", HttpMethod.Put, $"/sources/{renamed}", new { name, kind = "outlet" }, IfMatch: "\"1\"",
                Written: "SELECT EXISTS (SELECT 1 FROM sources WHERE id = @id AND name = @m)", Parameters: new { id = renamed, m = name }),
            new(phase, "PUT /claims/{id}/status", HttpMethod.Put, $"/claims/{judged}/status", new { status = "in_review", note }, IfMatch: "\"1\"",
                Written: "SELECT EXISTS (SELECT 1 FROM claim_status_changes WHERE claim_id = @id AND note = @m)", Parameters: new { id = judged, m = note }),
            new(phase, "POST /claims/{id}/evidence", HttpMethod.Post, $"/claims/{linked}/evidence", new { sourceId = cited, stance = "supports", quote },
                Written: "SELECT EXISTS (SELECT 1 FROM evidence WHERE claim_id = @id AND quote = @m)", Parameters: new { id = linked, m = quote }),
            new(phase, "DELETE /claims/{id}/evidence/{evidenceId}", HttpMethod.Delete, $"/claims/{unlinked}/evidence/{evidence}",
                Written: "SELECT NOT EXISTS (SELECT 1 FROM evidence WHERE id = @id)", Parameters: new { id = evidence }),
            new(phase, "DELETE /claims/{id}", HttpMethod.Delete, $"/claims/{deleted}", IfMatch: "\"1\"",
                Written: "SELECT NOT EXISTS (SELECT 1 FROM claims WHERE id = @id)", Parameters: new { id = deleted }),
            new(phase, "DELETE /sources/{id}", HttpMethod.Delete, $"/sources/{removed}", IfMatch: "\"1\"",
                Written: "SELECT NOT EXISTS (SELECT 1 FROM sources WHERE id = @id)", Parameters: new { id = removed }),
        ];
    }

    /// <param name="Written">For a write: SQL that is true once the write is stored.</param>
    private sealed record Call(
        string Phase, string Name, HttpMethod Method, string Url, object? Body = null, string? IfMatch = null,
        string? Written = null, object? Parameters = null);

    private sealed record Answer(Call Call, int Status, string Body, TimeSpan Elapsed, string? ContentType, TimeSpan? RetryAfter);

    private sealed record ProblemBody(int Status, string? Title, string? Detail);
}
