using System.Net.Sockets;
using Claims.Hostile;

namespace Claims.Tests.Infrastructure;

/// <summary>
/// The built Claims.Api program running as a server process of its own on Kestrel, as in
/// production: for tests that need several instances on one database, or real client addresses.
/// Rate limits and the limit of failed authentications are off unless a setting turns them on.
/// Disposing kills the process.
/// </summary>
public sealed class ApiServer : IAsyncDisposable
{
    private static readonly string ApiDll = Path.Combine(AppContext.BaseDirectory, "Claims.Api.dll");
    private readonly ApiHost _host;

    private ApiServer(ApiHost host, string adminKey)
    {
        _host = host;
        AdminKey = adminKey;
    }

    /// <summary>Where the server listens, on a free loopback port.</summary>
    public Uri Address => _host.BaseAddress;

    /// <summary>The bootstrap admin key this server accepts.</summary>
    public string AdminKey { get; }

    /// <summary>The last lines the process wrote, standard output and error.</summary>
    public string Output => _host.Output;

    /// <summary>
    /// Starts the program on <paramref name="connectionString"/> and returns once /health/ready
    /// answers 200; fails with the program's output when it does not come up within a minute.
    /// Settings are configuration keys (<c>Auth:FailedAuthenticationsPerMinute</c>) and values.
    /// </summary>
    public static async Task<ApiServer> StartAsync(string connectionString, IReadOnlyDictionary<string, string>? settings = null)
    {
        var adminKey = "test-admin-" + Guid.NewGuid().ToString("N");
        var environment = ApiHost.Settings(connectionString, adminKey);
        environment["Auth__FailedAuthenticationsPerMinute"] = "0";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var host = new ApiHost(ApiDll, environment, readyPath: "/health/ready");
        try
        {
            await host.StartAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new ApiServer(host, adminKey);
    }

    /// <summary>A client of this server with <paramref name="apiKey"/>, connecting from <paramref name="from"/> (another loopback address) when given.</summary>
    public HttpClient CreateClient(string? apiKey, IPAddress? from = null) => Client(Address, apiKey, from);

    /// <summary>A client of <paramref name="address"/> with <paramref name="apiKey"/>, connecting from <paramref name="from"/> when given.</summary>
    public static HttpClient Client(Uri address, string? apiKey, IPAddress? from)
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

        var client = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }

    /// <summary>SIGTERM; the exit code once the process has ended, or null when it has not <paramref name="within"/>.</summary>
    public Task<int?> TerminateAsync(TimeSpan within) => _host.TerminateAsync(within);

    /// <summary>Starts the program again, after it ended, on the same address and settings; returns once /health/ready answers 200.</summary>
    public Task RestartAsync() => _host.StartAsync(TimeSpan.FromSeconds(60));

    /// <summary>Waits until the process has written <paramref name="text"/>; fails with its output after <paramref name="within"/>.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan within) => _host.WaitForOutputAsync(text, within);

    public ValueTask DisposeAsync()
    {
        _host.Dispose();
        return ValueTask.CompletedTask;
    }
}
