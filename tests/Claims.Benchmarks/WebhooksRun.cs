using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Claims.Hostile;

namespace Claims.Benchmarks;

/// <summary>
/// Webhook deliveries per second to a receiver on loopback, next to the ceiling measured in the
/// same run: the same receiver taking the same bodies one after another from a plain HttpClient
/// (a subscription's deliveries go one at a time, in order).
/// </summary>
public static partial class BenchmarkRun
{
    private const int WebhookEvents = 1000;

    private sealed record WebhookRun(double DeliveriesPerSecond, double Ceiling, int Backlog, int Received)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"webhook deliveries {DeliveriesPerSecond:N0}/s while draining a backlog of {Backlog:N0} vs {Ceiling:N0}/s sequential POSTs of the same bodies to the same receiver: ratio {DeliveriesPerSecond / Ceiling:F3}; {Received:N0} of {WebhookEvents:N0} delivered");
    }

    /// <summary>Needs an API started with Webhooks:AllowPrivateNetworks (the receiver is on loopback).</summary>
    private static async Task<WebhookRun> MeasureWebhookDeliveriesAsync(ApiHost api)
    {
        var received = 0;
        var bodies = new List<byte[]>();
        var all = new TaskCompletionSource();
        var port = FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using var receiver = builder.Build();
        receiver.MapPost("/hook", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            lock (bodies)
            {
                if (bodies.Count < 100)
                {
                    bodies.Add(body.ToArray());
                }
            }

            if (Interlocked.Increment(ref received) == WebhookEvents)
            {
                all.TrySetResult();
            }

            return Results.NoContent();
        });
        await receiver.StartAsync();

        using var http = Client(api);
        var registered = await http.PostAsJsonAsync("/webhooks", new { url = $"http://127.0.0.1:{port}/hook", eventTypes = new[] { "claim.created" } });
        registered.EnsureSuccessStatusCode();

        // Claims logged as fast as 16 writers go; the deliveries follow one at a time.
        var next = 0;
        var writers = Enumerable.Range(0, EventWriters).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) <= WebhookEvents)
            {
                using var response = await http.PostAsJsonAsync("/claims", new { statement = $"Webhook benchmark claim {Guid.NewGuid()}." });
                response.EnsureSuccessStatusCode();
            }
        })).ToList();
        await Task.WhenAll(writers);

        var backlog = WebhookEvents - Volatile.Read(ref received);
        var clock = Stopwatch.StartNew();
        try
        {
            await all.Task.WaitAsync(TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException)
        {
        }

        var drained = clock.Elapsed.TotalSeconds;
        var delivered = Volatile.Read(ref received);
        var rate = (delivered - (WebhookEvents - backlog)) / drained;

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

        return new WebhookRun(rate, sent / ceilingClock.Elapsed.TotalSeconds, backlog, delivered);
    }
}
