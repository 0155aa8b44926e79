using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Claims.Hostile;

namespace Claims.Benchmarks;

/// <summary>
/// What the events outbox costs and how fast events reach a live subscriber: status changes per
/// second with events written and, in the same run on the same database, with the outbox write
/// switched off (Events:Write=false); and, while the writers run, the time from an event's write
/// (its time, taken by the last statement before its transaction commits) to its arrival on
/// GET /events/stream. Both clocks are this machine's.
/// </summary>
public static partial class BenchmarkRun
{
    private const int EventWriters = 16;
    private const int ClaimsPerWriter = 4;

    /// <param name="withoutNotify">A diagnosis, not a figure to publish: events numbered without NOTIFY (Events:Notify=false), to see what NOTIFY costs (the stream then hears of events only at its catch-up reads).</param>
    public static async Task<int> EventsAsync(TimeSpan duration, bool writeReadme, TextWriter output, bool withoutNotify = false)
    {
        await using var setup = await ReliabilitySetup.StartAsync("claims_events", output);
        // Every API of the run numbers events without notifying when asked to.
        Dictionary<string, string?> Settings(params (string Key, string Value)[] extra)
        {
            var settings = extra.ToDictionary(e => e.Key, e => (string?)e.Value);
            if (withoutNotify)
            {
                settings["Events__Notify"] = "false";
            }

            return settings;
        }

        if (withoutNotify)
        {
            output.WriteLine("NOTIFY switched off for this run (diagnosis only).");
            writeReadme = false;
        }

        // Both processes run side by side on the same database, and the writers switch between
        // them every few seconds (on, off, off, on, ...): on a shared machine whose load drifts,
        // both see the same drift, which separate runs one after the other did not (their ratio
        // moved between 0.66 and 0.84 from one run to the next). The receiver of the webhook
        // scenario listens on loopback.
        setup.Api.Dispose();
        using var on = await setup.StartApiAsync(Settings(("Webhooks__AllowPrivateNetworks", "true")));
        using var off = await setup.StartApiAsync(Settings(("Events__Write", "false")));
        var claims = await CreateClaimsAsync(on, EventWriters * ClaimsPerWriter);
        var slices = Math.Max(1, (int)Math.Round(duration / Slice));
        output.WriteLine($"Status changes for {slices * Slice.TotalSeconds:F0} s each way, in slices of {Slice.TotalSeconds:F0} s, switching between the two processes: {EventWriters} writers, {ClaimsPerWriter} claims each ...");
        await ChangeStatusesAsync(on, claims, WarmUp, expectEvents: true);
        await ChangeStatusesAsync(off, claims, WarmUp, expectEvents: false);
        var withEvents = new List<StatusChangeRun>();
        var without = new List<StatusChangeRun>();
        for (var i = 0; i < slices; i++)
        {
            foreach (var events in i % 2 == 0 ? new[] { true, false } : [false, true])
            {
                (events ? withEvents : without).Add(await ChangeStatusesAsync(events ? on : off, claims, Slice, events));
            }
        }

        var first = StatusChangeRun.Sum(withEvents);
        var baseline = StatusChangeRun.Sum(without);
        output.WriteLine($"  with events: {first}");
        output.WriteLine($"  without the outbox write: {baseline}");
        // Alone, as before: the other process's worker would share the deliveries.
        off.Dispose();
        var hooks = await MeasureWebhookDeliveriesAsync(on);
        output.WriteLine($"  {hooks}");

        var ratio = first.PerSecond / baseline.PerSecond;
        var sliceRatios = withEvents.Zip(without, (w, o) => w.PerSecond / o.PerSecond).Order().ToList();
        var latencies = first.Latencies.Order().ToList();
        var p50 = Percentile(latencies, 0.50);
        var p99 = Percentile(latencies, 0.99);
        var failures = first.Failures + baseline.Failures;
        var text = string.Create(CultureInfo.InvariantCulture,
            $"Events (`events`, {DateTime.UtcNow:yyyy-MM-dd}, {slices * Slice.TotalSeconds:F0} s each way in {slices} alternating slices, {EventWriters} writers): " +
            $"status changes {first.PerSecond:N0}/s with events vs {baseline.PerSecond:N0}/s without the outbox write: " +
            $"ratio {ratio:F2} (target ≥ 0.80: {(ratio >= 0.8 ? "met" : "**not met**")}; slices {sliceRatios[0]:F2} to {sliceRatios[^1]:F2}); " +
            $"write to SSE arrival over {latencies.Count:N0} events: p50 {p50:F1} ms, p99 {p99:F1} ms (target < 200 ms: {(p99 < 200 ? "met" : "**not met**")}); " +
            $"{failures} failed requests; {first.Missing} events not seen by the subscriber; {hooks}.");
        output.WriteLine(text);
        if (writeReadme)
        {
            WriteReadme(Path.Combine(RepositoryRoot(), "README.md"), "events", text);
        }

        // Without the outbox write the subscriber must hear nothing: else the baseline wrote events.
        return failures == 0 && first.Missing == 0 && baseline.Latencies.Count == 0 && hooks.Received == WebhookEvents ? 0 : 1;
    }

    private static readonly TimeSpan Slice = TimeSpan.FromSeconds(3);

    private sealed record StatusChangeRun(int Changes, double Seconds, int Failures, List<double> Latencies, int Missing)
    {
        public double PerSecond => Changes / Seconds;

        public static StatusChangeRun Sum(IReadOnlyList<StatusChangeRun> runs) =>
            new(runs.Sum(r => r.Changes), runs.Sum(r => r.Seconds), runs.Sum(r => r.Failures), [.. runs.SelectMany(r => r.Latencies)], runs.Sum(r => r.Missing));

        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"{PerSecond:N0} changes/s, {Failures} failed, {Latencies.Count:N0} events seen, {Missing:N0} not seen");
    }

    private static async Task<List<Guid>> CreateClaimsAsync(ApiHost api, int count)
    {
        using var http = Client(api);
        var ids = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            var response = await http.PostAsJsonAsync("/claims", new { statement = $"Benchmark claim {i}: the status of this claim changes back and forth." });
            response.EnsureSuccessStatusCode();
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());
        }

        return ids;
    }

    /// <summary>
    /// Each writer owns its claims and moves each between in_review and unverified, sending the
    /// ETag of its last answer, so no change meets another's 412. A stream subscriber, there in
    /// every run so that the runs differ only in the outbox write, times every status_changed
    /// event from its write to its arrival.
    /// </summary>
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);

    private static async Task<StatusChangeRun> ChangeStatusesAsync(ApiHost api, List<Guid> claims, TimeSpan duration, bool expectEvents)
    {
        using var http = Client(api);
        var etags = new ConcurrentDictionary<Guid, string>();
        var statuses = new ConcurrentDictionary<Guid, string>();
        foreach (var id in claims)
        {
            var response = await http.GetAsync($"/claims/{id}/status");
            response.EnsureSuccessStatusCode();
            etags[id] = response.Headers.ETag!.ToString();
            statuses[id] = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString()!;
        }

        var latencies = new ConcurrentBag<double>();
        using var stop = new CancellationTokenSource();
        var listening = new TaskCompletionSource();
        var subscriber = SubscribeAsync(api, await LastPositionAsync(http), latencies, listening, stop.Token);
        // The stream's first line is a heartbeat: the writers start once it is listening.
        await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var changes = 0;
        var failures = 0;
        var clock = Stopwatch.StartNew();
        var writers = Enumerable.Range(0, EventWriters).Select(w => Task.Run(async () =>
        {
            var mine = claims.Skip(w * ClaimsPerWriter).Take(ClaimsPerWriter).ToList();
            for (var n = 0; clock.Elapsed < duration; n++)
            {
                var id = mine[n % mine.Count];
                var next = statuses[id] == "in_review" ? "unverified" : "in_review";
                using var request = new HttpRequestMessage(HttpMethod.Put, $"/claims/{id}/status") { Content = JsonContent.Create(new { status = next }) };
                request.Headers.TryAddWithoutValidation("If-Match", etags[id]);
                using var response = await http.SendAsync(request);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref failures);
                    // Read it again, so that one failure does not fail every later change of the claim.
                    using var current = await http.GetAsync($"/claims/{id}/status");
                    etags[id] = current.Headers.ETag?.ToString() ?? etags[id];
                    statuses[id] = (await current.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString()!;
                    continue;
                }

                etags[id] = response.Headers.ETag!.ToString();
                statuses[id] = next;
                Interlocked.Increment(ref changes);
            }
        })).ToList();
        await Task.WhenAll(writers);
        var seconds = clock.Elapsed.TotalSeconds;

        // Let the last events arrive, within a bound.
        for (var wait = 0; expectEvents && wait < 50 && latencies.Count < changes; wait++)
        {
            await Task.Delay(100);
        }

        await stop.CancelAsync();
        await subscriber;
        return new StatusChangeRun(changes, seconds, failures, [.. latencies], expectEvents ? changes - latencies.Count : 0);
    }

    private static async Task SubscribeAsync(ApiHost api, long after, ConcurrentBag<double> latencies, TaskCompletionSource listening, CancellationToken stop)
    {
        using var http = Client(api);
        http.Timeout = Timeout.InfiniteTimeSpan;
        try
        {
            using var response = await http.GetAsync($"/events/stream?type=claim.status_changed&after={after}", HttpCompletionOption.ResponseHeadersRead, stop);
            response.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop));
            while (await reader.ReadLineAsync(stop) is { } line)
            {
                listening.TrySetResult();
                if (!line.StartsWith("data: {", StringComparison.Ordinal))
                {
                    continue;
                }

                var arrived = DateTimeOffset.UtcNow;
                using var change = JsonDocument.Parse(line["data: ".Length..]);
                latencies.Add((arrived - change.RootElement.GetProperty("time").GetDateTimeOffset()).TotalMilliseconds);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>The newest event's position: the feed pages oldest first, so walk it by its cursor.</summary>
    private static async Task<long> LastPositionAsync(HttpClient http)
    {
        long after = 0;
        for (var page = 0; page < 10_000; page++)
        {
            var body = await http.GetFromJsonAsync<JsonElement>($"/events?limit=200&after={after}");
            if (body.GetProperty("nextCursor").GetString() is not { } next)
            {
                return after;
            }

            after = long.Parse(next, CultureInfo.InvariantCulture);
        }

        throw new InvalidOperationException("More than two million events to skip: start the benchmark on a fresh database.");
    }

    private static HttpClient Client(ApiHost api)
    {
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Api-Key", Key);
        return http;
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
