using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Claims.Tests.Infrastructure;

/// <summary>
/// Debian's nginx with the repository's configuration (src/nginx/claims.conf, as docker-compose.yml
/// mounts it), in front of two API processes on one database of their own: the upstream
/// addresses and the port are the only lines changed. The two share Paging:CursorKey, as the
/// compose file's instances do, and trust nginx's X-Forwarded-For; each refuses an address's keys
/// after 3 failed authentications a minute, and each key after 300 requests a minute (a derived
/// fixture may say otherwise). Fails with the fix when nginx is missing.
/// </summary>
public class Balancer : TwoApiServers
{
    /// <summary>Each key's quota of requests a minute, counted in PostgreSQL for both instances (RateLimiting:Shared's default).</summary>
    public const int RequestsPerMinute = 300;

    public Balancer()
        : this(new Dictionary<string, string>
        {
            ["Paging:CursorKey"] = CursorKey,
            ["Network:TrustedProxies"] = "127.0.0.1",
            ["Auth:FailedAuthenticationsPerMinute"] = "3",
            ["RateLimiting:RequestsPerMinute"] = RequestsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
    {
    }

    protected Balancer(IReadOnlyDictionary<string, string> settings)
        : base("Listening for API key changes", settings)
    {
    }

    /// <summary>The paging cursors' key, the same on both instances as the compose file's.</summary>
    protected static readonly string CursorKey = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("balancer-tests-cursor-key-0123456789"));

    private const string Nginx = "/usr/sbin/nginx";

    private Process? _nginx;
    private string _folder = "";

    /// <summary>The balancer's address.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>An admin key minted through instance A, valid on both (keys live in the database).</summary>
    public string Key { get; private set; } = "";

    public override async Task InitializeAsync()
    {
        if (!File.Exists(Nginx))
        {
            throw new InvalidOperationException($"nginx is missing at {Nginx}. Fix: apt-get install nginx-light (.ci/run installs it).");
        }

        await base.InitializeAsync();
        using (var admin = A.CreateClient(A.AdminKey))
        {
            var minted = await (await admin.PostAsJsonAsync("/admin/keys", new { name = "balancer tests", role = "admin" })).ReadJsonAsync(HttpStatusCode.Created);
            Key = minted.Str("key");
        }

        var port = FreePort();
        _folder = Directory.CreateTempSubdirectory("claims-nginx-").FullName;
        // nginx's workers run as nobody when started by root: the folder must be theirs to write.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_folder, (UnixFileMode)0b111_111_111);
        }
        var server = (await File.ReadAllTextAsync(Path.Combine(Repository.Root, "src", "nginx", "claims.conf")))
            .Replace("server api1:8080", $"server {A.Address.Authority}", StringComparison.Ordinal)
            .Replace("server api2:8080", $"server {B.Address.Authority}", StringComparison.Ordinal)
            .Replace("listen 8080;", $"listen 127.0.0.1:{port};", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(_folder, "claims.conf"), server);
        await File.WriteAllTextAsync(Path.Combine(_folder, "nginx.conf"), $$"""
            daemon off;
            pid {{_folder}}/nginx.pid;
            error_log {{_folder}}/error.log warn;
            events {}
            http {
                access_log off;
                client_body_temp_path {{_folder}}/body;
                proxy_temp_path {{_folder}}/proxy;
                fastcgi_temp_path {{_folder}}/fastcgi;
                uwsgi_temp_path {{_folder}}/uwsgi;
                scgi_temp_path {{_folder}}/scgi;
                include {{_folder}}/claims.conf;
            }
            """);
        _nginx = Process.Start(new ProcessStartInfo(Nginx, ["-c", Path.Combine(_folder, "nginx.conf"), "-p", _folder])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        Address = new Uri($"http://127.0.0.1:{port}");
        using var probe = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(2) };
        for (var attempt = 0; attempt < 50; attempt++)
        {
            if (_nginx.HasExited)
            {
                throw new InvalidOperationException($"nginx exited ({_nginx.ExitCode}): {await _nginx.StandardError.ReadToEndAsync()}");
            }

            try
            {
                if ((await probe.GetAsync("/health/live")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"nginx did not answer on {Address} within 5 s: {File.ReadAllText(Path.Combine(_folder, "error.log"))}");
    }

    /// <summary>A client of the balancer with the shared admin key.</summary>
    public HttpClient CreateClient() => ApiServer.Client(Address, Key, null);

    /// <summary>A client of the balancer with <paramref name="apiKey"/>, connecting from <paramref name="from"/> (another loopback address).</summary>
    public HttpClient CreateClient(string? apiKey, IPAddress from) => ApiServer.Client(Address, apiKey, from);

    public override async Task DisposeAsync()
    {
        if (_nginx is { HasExited: false })
        {
            _nginx.Kill(entireProcessTree: true);
            await _nginx.WaitForExitAsync();
        }

        _nginx?.Dispose();
        await base.DisposeAsync();
        if (_folder.Length > 0)
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
