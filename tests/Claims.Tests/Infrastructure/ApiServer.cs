using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Claims.Tests.Infrastructure;

/// <summary>
/// The built Claims.Api program running as a server process of its own on Kestrel, as in
/// production: for tests that need several instances on one database, or real client addresses.
/// Rate limits and the limit of failed authentications are off unless a setting turns them on.
/// Disposing kills the process.
/// </summary>
public sealed partial class ApiServer : IAsyncDisposable
{
    private static readonly string ApiDll = Path.Combine(AppContext.BaseDirectory, "Claims.Api.dll");
    private static readonly TimeSpan StartWithin = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ApiServer(Process process, string adminKey)
    {
        _process = process;
        AdminKey = adminKey;
    }

    /// <summary>Where the server listens, on a loopback port the system chose.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The bootstrap admin key this server accepts.</summary>
    public string AdminKey { get; }

    /// <summary>Everything the process wrote so far, standard output and error.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts the program on <paramref name="connectionString"/> and returns once /health/ready
    /// answers 200; fails with the program's output when it does not come up within a minute.
    /// Settings are configuration keys (<c>Auth:FailedAuthenticationsPerMinute</c>) and values.
    /// </summary>
    public static async Task<ApiServer> StartAsync(string connectionString, IReadOnlyDictionary<string, string>? settings = null)
    {
        var adminKey = "test-admin-" + Guid.NewGuid().ToString("N");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(ApiDll);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // Port 0: the system picks a free port, which the server then logs.
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["ConnectionStrings__Claims"] = connectionString;
        start.Environment["Auth__BootstrapAdminKey"] = adminKey;
        start.Environment["RateLimiting__RequestsPerMinute"] = "0";
        start.Environment["RateLimiting__WritesPerMinute"] = "0";
        start.Environment["Auth__FailedAuthenticationsPerMinute"] = "0";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var server = new ApiServer(Process.Start(start)!, adminKey);
        server._process.OutputDataReceived += (_, e) => server.Append(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilReadyAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>A client of this server with <paramref name="apiKey"/>, connecting from <paramref name="from"/> (another loopback address) when given.</summary>
    public HttpClient CreateClient(string? apiKey, IPAddress? from = null)
    {
        var handler = new SocketsHttpHandler();
        if (from is not null)
        {
            handler.ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(from.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(from, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        var client = new HttpClient(handler) { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }

    /// <summary>Waits until the process has written <paramref name="text"/>; fails with its output after <paramref name="within"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited || clock.Elapsed > within)
            {
                Assert.Fail($"Claims.Api did not write '{text}' within {within.TotalSeconds:0} s{(_process.HasExited ? " (it exited)" : "")}. Its output:{Environment.NewLine}{Output}");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }

        _process.Dispose();
    }

    private async Task WaitUntilReadyAsync()
    {
        var clock = Stopwatch.StartNew();
        Match listening;
        while (!(listening = ListeningOn().Match(Output)).Success)
        {
            if (_process.HasExited || clock.Elapsed > StartWithin)
            {
                Assert.Fail($"Claims.Api did not start listening within {StartWithin.TotalSeconds:0} s{(_process.HasExited ? $" (it exited with {_process.ExitCode})" : "")}. Its output:{Environment.NewLine}{Output}");
            }

            await Task.Delay(50);
        }

        Address = new Uri(listening.Groups["url"].Value);
        using var client = CreateClient(null);
        while (true)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                using var ready = await client.GetAsync("/health/ready", timeout.Token);
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                // Not answering yet.
            }

            if (_process.HasExited || clock.Elapsed > StartWithin)
            {
                Assert.Fail($"Claims.Api at {Address} was not ready within {StartWithin.TotalSeconds:0} s. Its output:{Environment.NewLine}{Output}");
            }

            await Task.Delay(100);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    [GeneratedRegex(@"Now listening on: (?<url>http://\S+)")]
    private static partial Regex ListeningOn();
}
