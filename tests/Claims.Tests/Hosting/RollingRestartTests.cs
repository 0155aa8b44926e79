using System.Collections.Concurrent;
using System.Diagnostics;
using Claims.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Claims.Tests;

/// <summary>Two instances behind nginx without rate limits, so that a load is only a load.</summary>
public sealed class UnlimitedBalancer() : Balancer(new Dictionary<string, string>
{
    ["Paging:CursorKey"] = CursorKey,
    ["Network:TrustedProxies"] = "127.0.0.1",
});

/// <summary>
/// One instance behind the balancer is stopped with SIGTERM and started again while clients keep
/// writing and reading through nginx, as a rolling deploy does: no read fails, and every write is
/// stored exactly once, the only errors being the ones the README tells clients to retry (a 502
/// for a write caught on a connection the stopping instance closed, sent again with its
/// Idempotency-Key).
/// </summary>
public sealed class RollingRestartTests(UnlimitedBalancer balancer, ITestOutputHelper output) : IClassFixture<UnlimitedBalancer>
{
    private static readonly HttpStatusCode[] Retried = [HttpStatusCode.BadGateway, HttpStatusCode.ServiceUnavailable, HttpStatusCode.GatewayTimeout];

    [Fact]
    public async Task ARestartOfOneInstanceUnderLoadFailsNoReadAndStoresEveryWriteOnce()
    {
        var tag = "rr-" + Guid.NewGuid().ToString("N")[..8];
        using var stop = new CancellationTokenSource();
        var written = new ConcurrentBag<Guid>();
        var failures = new ConcurrentBag<string>();
        var retries = 0;
        var workers = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            using var client = balancer.CreateClient();
            for (var i = 0; i < 100_000 && !stop.IsCancellationRequested; i++)
            {
                var key = Guid.NewGuid().ToString();
                HttpResponseMessage created = null!;
                for (var attempt = 0; attempt < 5; attempt++)
                {
                    var request = new HttpRequestMessage(HttpMethod.Post, "/claims")
                    {
                        Content = JsonContent.Create(new { statement = $"Troops moved through Kursk, worker {worker}, report {i}.", tags = new[] { tag } }),
                    };
                    request.Headers.Add("Idempotency-Key", key);
                    created = await client.SendAsync(request);
                    if (!Retried.Contains(created.StatusCode))
                    {
                        break;
                    }

                    Interlocked.Increment(ref retries);
                    await Task.Delay(100);
                }

                if (created.StatusCode != HttpStatusCode.Created)
                {
                    failures.Add($"POST /claims: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
                    continue;
                }

                var claim = (await created.ReadJsonAsync(HttpStatusCode.Created)).Id();
                written.Add(claim);
                var read = await client.GetAsync($"/claims/{claim}/status");
                if (read.StatusCode != HttpStatusCode.OK)
                {
                    failures.Add($"GET status: {(int)read.StatusCode} {await read.Content.ReadAsStringAsync()}");
                }
            }
        })).ToArray();

        await Task.Delay(1000);
        var exit = await balancer.A.TerminateAsync(TimeSpan.FromSeconds(20));
        var duringRestart = written.Count;
        await balancer.A.RestartAsync();
        // nginx sends to A again once its failures are forgotten (fail_timeout 10 s): the load
        // goes on until the restarted instance has served writes, at most 20 s.
        var waited = Stopwatch.StartNew();
        while (!await ServedWritesAsync(balancer.A) && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(250);
        }

        var servedAfterRestart = await ServedWritesAsync(balancer.A);
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        output.WriteLine($"{written.Count} writes, {retries} retried after 502/503/504, {failures.Count} failures.");
        Assert.True(exit == 0, $"Instance A exited with {exit?.ToString() ?? "nothing (still running)"}: {balancer.A.Output}");
        Assert.Empty(failures);
        Assert.True(servedAfterRestart, "The restarted instance served no write.");
        Assert.True(written.Count > duringRestart, "No write was served after the restart began.");
        using var check = balancer.CreateClient();
        var stored = new List<Guid>();
        var url = $"/claims?tag={tag}&limit=100";
        for (var page = 0; page < 1000 && url is not null; page++)
        {
            var body = await (await check.GetAsync(url)).ReadJsonAsync(HttpStatusCode.OK);
            stored.AddRange(body.Items().Select(c => c.Id()));
            url = body.GetProperty("nextCursor").GetString() is { } cursor ? $"/claims?tag={tag}&limit=100&cursor={Uri.EscapeDataString(cursor)}" : null;
        }

        // Every acknowledged write is stored, and a retried one only once.
        Assert.Equal(written.Order(), stored.Order());
    }

    private static async Task<bool> ServedWritesAsync(ApiServer instance)
    {
        using var direct = instance.CreateClient(instance.AdminKey);
        var metrics = await (await direct.GetAsync("/metrics")).Content.ReadAsStringAsync();
        return metrics.Split('\n').Any(l => l.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
            && l.Contains("http_route=\"/claims/\"", StringComparison.Ordinal) && l.Contains("http_request_method=\"POST\"", StringComparison.Ordinal)
            && l.Contains("http_response_status_code=\"201\"", StringComparison.Ordinal));
    }
}
