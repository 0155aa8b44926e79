using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace Claims.Tests.Infrastructure;

/// <summary>A webhook request as the receiver got it; <paramref name="AnsweredWith"/> is 0 for a request it held, never answering.</summary>
public sealed record ReceivedWebhook(string Path, string Id, string Timestamp, string Signature, string Body, int AnsweredWith)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    /// <summary>The headers as the StandardWebhooks library's verifier reads them.</summary>
    public Microsoft.AspNetCore.Http.HeaderDictionary Headers => With(Signature);

    /// <summary>The headers with another webhook-signature.</summary>
    public Microsoft.AspNetCore.Http.HeaderDictionary With(string signature) => new()
    {
        ["webhook-id"] = Id,
        ["webhook-timestamp"] = Timestamp,
        ["webhook-signature"] = signature,
    };
}

/// <summary>
/// A real HTTP receiver on a free loopback port, for webhooks: each path answers with the
/// statuses it was told, in turn, then 200, or holds its first request open; every request is
/// recorded. Tests give each subscription a path of its own, so that they share the receiver and
/// not its records.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<int>> _scripts = new();
    private readonly ConcurrentDictionary<string, int> _always = new();
    private readonly ConcurrentDictionary<string, string> _redirects = new();
    private readonly ConcurrentDictionary<string, bool> _holdFirst = new();
    private readonly TaskCompletionSource _closing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();
    private readonly Task _loop;

    public WebhookReceiver()
    {
        var port = FreePort();
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(BaseAddress.ToString());
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri BaseAddress { get; }

    /// <summary>A new path of this receiver, as a URL to register, answering <paramref name="statuses"/> in turn and then 200.</summary>
    public string NewUrl(params int[] statuses)
    {
        var path = "/hooks/" + Guid.NewGuid().ToString("N");
        _scripts[path] = new ConcurrentQueue<int>(statuses);
        return new Uri(BaseAddress, path).ToString();
    }

    /// <summary>A new path that answers <paramref name="status"/> to every request.</summary>
    public string NewUrlAlways(int status)
    {
        var url = NewUrl();
        _always[new Uri(url).AbsolutePath] = status;
        return url;
    }

    /// <summary>A new path that answers every request with 307 Temporary Redirect to <paramref name="target"/>.</summary>
    public string NewUrlRedirectingTo(string target)
    {
        var url = NewUrlAlways(307);
        _redirects[new Uri(url).AbsolutePath] = target;
        return url;
    }

    /// <summary>
    /// A new path that reads its first request and never answers it (recorded as answered with 0),
    /// as a receiver that hangs, so that the sender is caught mid-attempt; 200 to the rest.
    /// </summary>
    public string NewUrlHoldingFirst()
    {
        var url = NewUrl();
        _holdFirst[new Uri(url).AbsolutePath] = true;
        return url;
    }

    /// <summary>What the path of <paramref name="url"/> received so far, in arrival order.</summary>
    public IReadOnlyList<ReceivedWebhook> ReceivedAt(string url) => [.. _received.Where(r => r.Path == new Uri(url).AbsolutePath)];

    /// <summary>Waits until the path of <paramref name="url"/> has received <paramref name="count"/> requests; fails with what it got after <paramref name="within"/>.</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(string url, int count, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var received = ReceivedAt(url);
            if (received.Count >= count)
            {
                return received;
            }

            Assert.True(DateTime.UtcNow < deadline,
                $"{url} received {received.Count} of {count} webhook requests within {within.TotalSeconds:0} s: {string.Join(", ", received.Select(r => $"{r.Id} -> {r.AnsweredWith}"))}");
            await Task.Delay(50);
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var path = context.Request.Url!.AbsolutePath;
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        ReceivedWebhook Received(int status) => new(path, context.Request.Headers["webhook-id"] ?? "", context.Request.Headers["webhook-timestamp"] ?? "",
            context.Request.Headers["webhook-signature"] ?? "", body, status);
        if (_holdFirst.TryRemove(path, out _))
        {
            _received.Enqueue(Received(0));
            // Never answered: only the sender's giving up (its timeout, its shutdown) ends the attempt.
            await _closing.Task;
            context.Response.Abort();
            return;
        }

        var status = _always.TryGetValue(path, out var always) ? always
            : _scripts.TryGetValue(path, out var script) && script.TryDequeue(out var next) ? next : 200;
        _received.Enqueue(Received(status));
        context.Response.StatusCode = status;
        if (_redirects.TryGetValue(path, out var target))
        {
            context.Response.RedirectLocation = target;
        }

        var answer = Encoding.UTF8.GetBytes(status < 300 ? "ok" : $"scripted {status}");
        await context.Response.OutputStream.WriteAsync(answer);
        context.Response.Close();
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _closing.TrySetResult();
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
