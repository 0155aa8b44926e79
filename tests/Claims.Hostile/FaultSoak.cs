using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace Claims.Hostile;

/// <summary>A fault the soak injects every so often: killing the API, restarting PostgreSQL.</summary>
public sealed record Fault(string Name, TimeSpan Every, Func<CancellationToken, Task> Inject)
{
    /// <summary>SIGKILL to the API, then the same program started again on the same address.</summary>
    public static Fault KillApi(ApiHost api, TimeSpan every) => new("kill -9 the API", every, async ct =>
    {
        api.Kill();
        await api.StartAsync(TimeSpan.FromSeconds(60), ct);
    });

    /// <summary>PostgreSQL stopped, kept down long enough for every writer to meet it, and started again.</summary>
    public static Fault RestartDatabase(Func<Task> stop, Func<Task> start, TimeSpan down, TimeSpan every) => new("restart PostgreSQL", every, async ct =>
    {
        await stop();
        await Task.Delay(down, ct);
        await start();
    });
}

/// <summary>
/// Writers log claims while faults are injected, then the stored rows are compared with what the
/// API acknowledged. Writers with an Idempotency-Key retry the same key until they get an answer,
/// so their claims must match the acknowledgements exactly, one claim per key. Writers without a
/// key do not retry: a 503 must have stored nothing, a 201 must be stored, and a request whose
/// answer was lost (the API died, or a 504 said the outcome is unknown) may or may not be.
/// </summary>
public sealed class FaultSoak(Uri api, string apiKey, string connectionString)
{
    /// <summary>How long a writer with a key keeps retrying one key after the soak's time is up.</summary>
    private static readonly TimeSpan SettleWithin = TimeSpan.FromSeconds(60);

    private readonly string _run = Guid.NewGuid().ToString("N")[..10];
    private readonly ConcurrentDictionary<string, Guid> _acknowledged = new();
    private readonly ConcurrentDictionary<string, byte> _refused = new();
    private readonly ConcurrentDictionary<string, byte> _unknown = new();
    private readonly ConcurrentDictionary<string, byte> _keyed = new();
    private readonly ConcurrentDictionary<string, byte> _abandoned = new();
    private readonly ConcurrentDictionary<string, int> _answers = new();
    private readonly ConcurrentBag<string> _unexpected = [];
    private readonly ConcurrentDictionary<string, int> _faults = new();

    public sealed record Report(
        TimeSpan Duration, int Requests, IReadOnlyDictionary<string, int> Answers, IReadOnlyDictionary<string, int> Faults,
        int Acknowledged, int Refused, int Unknown, int UnknownStored, int Keys, int Abandoned, IReadOnlyList<string> Mismatches)
    {
        public bool Holds => Mismatches.Count == 0;

        public override string ToString() =>
            $"{Duration.TotalSeconds:F0} s, {Requests:N0} requests ({string.Join(", ", Answers.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}: {a.Value:N0}"))}), " +
            $"faults: {string.Join(", ", Faults.Select(f => $"{f.Key} ×{f.Value}"))}; {Acknowledged:N0} claims acknowledged, {Keys:N0} with an Idempotency-Key ({Abandoned} given up); " +
            $"{Refused:N0} refused with 503, {Unknown:N0} with the outcome unknown ({UnknownStored} of them stored); " +
            (Holds ? "stored rows match." : $"{Mismatches.Count} mismatches: {string.Join("; ", Mismatches.Take(10))}");
    }

    public async Task<Report> RunAsync(TimeSpan duration, int writersWithKey, int writersWithoutKey, IReadOnlyList<Fault> faults, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stop.CancelAfter(duration);
        using var http = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromSeconds(20) };
        http.DefaultRequestHeaders.Add("X-Api-Key", apiKey);

        var writers = Enumerable.Range(0, writersWithKey).Select(w => WriteWithKeyAsync(http, w, stop.Token, ct))
            .Concat(Enumerable.Range(0, writersWithoutKey).Select(w => WriteWithoutKeyAsync(http, writersWithKey + w, stop.Token)))
            .ToList();
        var injectors = faults.Select(fault => InjectAsync(fault, stop.Token)).ToList();
        try
        {
            await Task.WhenAll(injectors);
        }
        finally
        {
            // A fault that failed (the API did not come back) ends the soak, but the writers are
            // stopped and awaited before the client they use goes away.
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }

        var elapsed = clock.Elapsed;

        return await CheckAsync(elapsed, ct);
    }

    private async Task InjectAsync(Fault fault, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(fault.Every, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await fault.Inject(CancellationToken.None);
            _faults.AddOrUpdate(fault.Name, 1, (_, n) => n + 1);
        }
    }

    private async Task WriteWithKeyAsync(HttpClient http, int writer, CancellationToken stop, CancellationToken ct)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var marker = Marker(writer, n);
            _keyed[marker] = 0;
            // Once begun, a key is retried past the soak's end: its claim must end up acknowledged.
            var settle = Stopwatch.StartNew();
            while (true)
            {
                var (status, id) = await PostAsync(http, marker, marker, ct);
                if (status == HttpStatusCode.Created)
                {
                    _acknowledged[marker] = id!.Value;
                    break;
                }

                // 409 is the same key still running; the others say nothing happened yet, or nobody knows.
                if (status is not (null or HttpStatusCode.Conflict or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout))
                {
                    _unexpected.Add($"{marker} with its key: {(int)status}");
                    break;
                }

                if ((stop.IsCancellationRequested && settle.Elapsed > SettleWithin) || ct.IsCancellationRequested)
                {
                    _abandoned[marker] = 0;
                    break;
                }

                await Task.Delay(200, CancellationToken.None);
            }
        }
    }

    private async Task WriteWithoutKeyAsync(HttpClient http, int writer, CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var marker = Marker(writer, n);
            var (status, id) = await PostAsync(http, marker, idempotencyKey: null, CancellationToken.None);
            switch (status)
            {
                case HttpStatusCode.Created:
                    _acknowledged[marker] = id!.Value;
                    break;
                case HttpStatusCode.ServiceUnavailable:
                    _refused[marker] = 0;
                    await Task.Delay(200, CancellationToken.None);
                    break;
                case null or HttpStatusCode.GatewayTimeout:
                    _unknown[marker] = 0;
                    await Task.Delay(200, CancellationToken.None);
                    break;
                default:
                    _unexpected.Add($"{marker}: {(int)status}");
                    break;
            }
        }
    }

    /// <summary>One POST; null status when no answer came (the API died or the connection broke).</summary>
    private async Task<(HttpStatusCode? Status, Guid? Id)> PostAsync(HttpClient http, string marker, string? idempotencyKey, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/claims")
        {
            Content = JsonContent.Create(new { statement = $"{Statement(marker)} North Korean soldiers were seen near Kursk.", tags = new[] { "soak" } }),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", $"\"{idempotencyKey}\"");
        }

        try
        {
            using var response = await http.SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            Count(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            return response.StatusCode == HttpStatusCode.Created
                ? (response.StatusCode, JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid())
                : (response.StatusCode, null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            Count("no answer");
            return (null, null);
        }
    }

    private async Task<Report> CheckAsync(TimeSpan elapsed, CancellationToken ct)
    {
        var stored = new Dictionary<string, List<Guid>>(StringComparer.Ordinal);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand("SELECT id, statement FROM claims WHERE statement LIKE @prefix", connection);
            command.Parameters.AddWithValue("prefix", $"Soak {_run} %");
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var marker = reader.GetString(1).Split(' ')[2].TrimEnd(':');
                (stored.TryGetValue(marker, out var ids) ? ids : stored[marker] = []).Add(reader.GetGuid(0));
            }
        }

        var mismatches = new List<string>(_unexpected);
        foreach (var (marker, ids) in stored.Where(s => s.Value.Count > 1))
        {
            mismatches.Add($"{marker} stored {ids.Count} times");
        }

        foreach (var (marker, id) in _acknowledged)
        {
            if (!stored.TryGetValue(marker, out var ids) || !ids.Contains(id))
            {
                mismatches.Add($"{marker} acknowledged as {id} but not stored");
            }
        }

        foreach (var marker in stored.Keys)
        {
            if (_refused.ContainsKey(marker))
            {
                mismatches.Add($"{marker} answered 503 but stored");
            }
            else if (!_acknowledged.ContainsKey(marker) && !_unknown.ContainsKey(marker))
            {
                mismatches.Add($"{marker} stored but never acknowledged{(_keyed.ContainsKey(marker) ? " (its key was given up)" : "")}");
            }
        }

        return new Report(elapsed, _answers.Values.Sum(), new Dictionary<string, int>(_answers), new Dictionary<string, int>(_faults),
            _acknowledged.Count, _refused.Count, _unknown.Count, _unknown.Keys.Count(stored.ContainsKey), _keyed.Count, _abandoned.Count, mismatches);
    }

    private string Marker(int writer, int n) => $"w{writer}n{n}";

    private string Statement(string marker) => $"Soak {_run} {marker}:";

    private void Count(string answer) => _answers.AddOrUpdate(answer, 1, (_, n) => n + 1);
}
