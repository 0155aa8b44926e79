using System.Net.ServerSentEvents;

namespace Claims.Tests;

/// <summary>
/// A subscriber of GET /events/stream, reading the stream with the framework's own SSE parser.
/// Every wait is bounded; disposing closes the connection.
/// </summary>
public sealed class EventStreamReader : IAsyncDisposable
{
    /// <summary>The longest a stream is read at all, whatever a test waits for.</summary>
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    private readonly CancellationTokenSource _life = new(Lifetime);
    private readonly HttpResponseMessage _response;
    private readonly SseParser<string> _parser;
    private readonly IAsyncEnumerator<SseItem<string>> _items;
    private Task<bool>? _pending;

    private EventStreamReader(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _parser = SseParser.Create(body);
        _items = _parser.EnumerateAsync(_life.Token).GetAsyncEnumerator(_life.Token);
    }

    public HttpResponseMessage Response => _response;

    /// <summary>The reconnection interval the server last asked for (a retry field), if any.</summary>
    public TimeSpan? ReconnectionInterval => _parser.ReconnectionInterval;

    /// <summary>Opens the stream at <paramref name="url"/>; fails unless it answers 200 text/event-stream.</summary>
    public static async Task<EventStreamReader> OpenAsync(HttpClient client, string url, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        using var opening = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, opening.Token);
        if (response.StatusCode != HttpStatusCode.OK || response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            var text = await response.Content.ReadAsStringAsync(opening.Token);
            response.Dispose();
            Assert.Fail($"GET {url} answered {(int)response.StatusCode} {response.Content.Headers.ContentType}: {text}");
        }

        return new EventStreamReader(response, await response.Content.ReadAsStreamAsync(opening.Token));
    }

    /// <summary>The next item of any kind, heartbeats included; fails when none comes <paramref name="within"/>.</summary>
    public async Task<SseItem<string>> NextItemAsync(TimeSpan within)
    {
        var item = await TryNextItemAsync(within);
        Assert.True(item is not null, $"Nothing arrived on the stream within {within.TotalSeconds} s.");
        return item.Value;
    }

    /// <summary>The next item, or null when none comes <paramref name="within"/> (the wait goes on at the next call).</summary>
    public async Task<SseItem<string>?> TryNextItemAsync(TimeSpan within)
    {
        _pending ??= _items.MoveNextAsync().AsTask();
        var finished = await Task.WhenAny(_pending, Task.Delay(within));
        if (finished != _pending)
        {
            return null;
        }

        var more = await _pending;
        _pending = null;
        Assert.True(more, "The server ended the stream.");
        return _items.Current;
    }

    /// <summary>The next event, skipping heartbeats; fails when none comes <paramref name="within"/>.</summary>
    public async Task<SseItem<string>> NextEventAsync(TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var item = left > TimeSpan.Zero ? await TryNextItemAsync(left) : null;
            Assert.True(item is not null, $"No event arrived on the stream within {within.TotalSeconds} s.");
            if (item.Value.EventType != "heartbeat")
            {
                return item.Value;
            }
        }
    }

    /// <summary>Whether the server ends the stream <paramref name="within"/>, reading past anything still sent.</summary>
    public async Task<bool> EndsWithinAsync(TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            _pending ??= _items.MoveNextAsync().AsTask();
            var finished = await Task.WhenAny(_pending, Task.Delay(deadline - DateTime.UtcNow));
            if (finished != _pending)
            {
                return false;
            }

            try
            {
                if (!await _pending)
                {
                    return true;
                }
            }
            catch (IOException)
            {
                // Ended by closing the connection rather than the stream.
                return true;
            }
            finally
            {
                _pending = null;
            }
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        await _life.CancelAsync();
        _response.Dispose();
        if (_pending is not null)
        {
            await _pending.ContinueWith(static t => t.Exception, TaskScheduler.Default);
        }

        _life.Dispose();
    }
}
