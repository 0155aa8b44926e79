using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Claims.Hostile;

namespace Claims.Benchmarks;

/// <summary>
/// Webhook deliveries per second to a receiver on loopback while they drain a backlog, next to the
/// ceiling measured in the same run: the same receiver taking the same bodies one after another
/// from a plain HttpClient (a subscription's deliveries go in order, one after another).
/// </summary>
public static partial class BenchmarkRun
{
    private const int WebhookEvents = 1000;

    /// <summary>
    /// How long the receiver holds the first delivery while the backlog is written: below the
    /// default Webhooks:TimeoutSeconds (10), so that the held attempt does not time out.
    /// </summary>
    private static readonly TimeSpan WebhookGate = TimeSpan.FromSeconds(8);

    /// <summary>The webhook verb's backlog: long enough a drain to time on a busy machine.</summary>
    private const int LongWebhookBacklog = 5000;

    private sealed record WebhookRun(double DeliveriesPerSecond, double Ceiling, int Backlog, int Received, int Events)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"webhook deliveries {DeliveriesPerSecond:N0}/s while draining a backlog of {Backlog:N0} vs {Ceiling:N0}/s sequential POSTs of the same bodies to the same receiver: ratio {DeliveriesPerSecond / Ceiling:F3}; {Received:N0} of {Events:N0} delivered");
    }

    /// <summary>
    /// Only the webhook scenario, with a longer backlog, twice on one database: with
    /// Webhooks:RunLength=1 (a claim, a POST and a record per delivery, the pace before runs) and
    /// with the default run length. The attempt timeout is raised so that the receiver may hold
    /// the first delivery for as long as the backlog takes to write.
    /// </summary>
    public static async Task<int> WebhooksAsync(bool writeReadme, TextWriter output)
    {
        await using var setup = await ReliabilitySetup.StartAsync("claims_webhooks", output);
        setup.Api.Dispose();
        var gate = TimeSpan.FromSeconds(100);
        // The receiver listens on loopback.
        Dictionary<string, string?> settings = new() { ["Webhooks__AllowPrivateNetworks"] = "true", ["Webhooks__TimeoutSeconds"] = "120" };

        output.WriteLine($"Draining {LongWebhookBacklog:N0} claim.created deliveries, one per claim, then in runs ...");
        WebhookRun single;
        using (var api = await setup.StartApiAsync(new Dictionary<string, string?>(settings) { ["Webhooks__RunLength"] = "1" }))
        {
            single = await MeasureWebhookDeliveriesAsync(api, LongWebhookBacklog, gate);
            output.WriteLine($"  one delivery per claim (Webhooks:RunLength=1): {single}");
        }

        using var runs = await setup.StartApiAsync(settings);
        var batched = await MeasureWebhookDeliveriesAsync(runs, LongWebhookBacklog, gate);
        output.WriteLine($"  runs (the default Webhooks:RunLength): {batched}");

        var text = string.Create(CultureInfo.InvariantCulture,
            $"Webhooks (`webhooks`, {DateTime.UtcNow:yyyy-MM-dd}): {batched}; the same build with `Webhooks:RunLength=1` (a claim, a POST and a record per delivery): {single.DeliveriesPerSecond:N0}/s, so runs deliver {batched.DeliveriesPerSecond / single.DeliveriesPerSecond:F1}× as fast.");
        output.WriteLine(text);
        if (writeReadme)
        {
            WriteReadme(Path.Combine(RepositoryRoot(), "README.md"), "webhooks", text);
        }

        return single.Received == single.Events && batched.Received == batched.Events ? 0 : 1;
    }

    /// <summary>
    /// Needs an API started with Webhooks:AllowPrivateNetworks (the receiver is on loopback). The
    /// receiver holds the first delivery until the backlog is written (at most <paramref name="gate"/>,
    /// by default <see cref="WebhookGate"/>: less than the attempt's timeout), so that the drain
    /// is timed from a known backlog rather than racing the writers.
    /// </summary>
    private static async Task<WebhookRun> MeasureWebhookDeliveriesAsync(ApiHost api, int events = WebhookEvents, TimeSpan? gate = null)
    {
        var received = 0;
        var bodies = new List<byte[]>();
        var all = new TaskCompletionSource();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var port = FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using var receiver = builder.Build();
        receiver.MapPost("/hook", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            await held.Task;
            lock (bodies)
            {
                if (bodies.Count < 100)
                {
                    bodies.Add(body.ToArray());
                }
            }

            if (Interlocked.Increment(ref received) == events)
            {
                all.TrySetResult();
            }

            return Results.NoContent();
        });
        await receiver.StartAsync();

        using var http = Client(api);
        var registered = await (await http.PostAsJsonAsync("/webhooks", new { url = $"http://127.0.0.1:{port}/hook", eventTypes = new[] { "claim.created" } }))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        var webhook = registered.GetProperty("webhook").GetProperty("id").GetGuid();

        // Claims logged as fast as 16 writers go, while the receiver holds the first delivery.
        var next = 0;
        var written = 0;
        var writers = Enumerable.Range(0, EventWriters).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) <= events)
            {
                using var response = await http.PostAsJsonAsync("/claims", new { statement = $"Webhook benchmark claim {Guid.NewGuid()}." });
                response.EnsureSuccessStatusCode();
                Interlocked.Increment(ref written);
            }
        })).ToList();
        await Task.WhenAny(Task.WhenAll(writers), Task.Delay(gate ?? WebhookGate));

        var backlog = Volatile.Read(ref written);
        var clock = Stopwatch.StartNew();
        held.TrySetResult();
        await Task.WhenAll(writers);
        try
        {
            await all.Task.WaitAsync(TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException)
        {
        }

        var drained = clock.Elapsed.TotalSeconds;
        var delivered = Volatile.Read(ref received);
        // Nothing was received before the gate opened: every delivery counted was sent after it.
        var rate = delivered / drained;
        (await http.DeleteAsync($"/webhooks/{webhook}")).EnsureSuccessStatusCode();

        // The ceiling: the same bodies, one request at a time, to the same receiver.
        byte[][] samples;
        lock (bodies)
        {
            samples = [.. bodies];
        }

        using var plain = new HttpClient();
        var sent = 0;
        var ceilingClock = Stopwatch.StartNew();
        while (ceilingClock.Elapsed < TimeSpan.FromSeconds(5))
        {
            using var content = new ByteArrayContent(samples[sent % samples.Length]);
            content.Headers.ContentType = new("application/json");
            using var response = await plain.PostAsync($"http://127.0.0.1:{port}/hook", content);
            sent++;
        }

        return new WebhookRun(rate, sent / ceilingClock.Elapsed.TotalSeconds, backlog, delivered, events);
    }
}
