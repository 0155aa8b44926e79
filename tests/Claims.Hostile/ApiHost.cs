using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Claims.Hostile;

/// <summary>
/// The built API as a process of its own on a fixed loopback port, as an operator runs it: it can
/// be killed outright (SIGKILL, no shutdown) and started again on the same address.
/// </summary>
/// <param name="readyPath">What must answer 200 before the host counts as started: /health/live, or /health/ready to wait for the database too.</param>
public sealed class ApiHost(string dll, IReadOnlyDictionary<string, string?> environment, string readyPath = "/health/live") : IDisposable
{
    private readonly List<string> _output = [];
    private Process? _process;

    public int Port { get; } = FreePort();

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>
    /// How the tests and the benchmark run the program: as in production, on the given database,
    /// with a bootstrap admin key, and without rate limits (they would measure themselves).
    /// </summary>
    public static Dictionary<string, string?> Settings(string connectionString, string adminKey) => new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["ConnectionStrings__Claims"] = connectionString,
        ["Auth__BootstrapAdminKey"] = adminKey,
        ["RateLimiting__RequestsPerMinute"] = "0",
        ["RateLimiting__WritesPerMinute"] = "0",
    };

    /// <summary>Starts the process and waits until its ready path answers 200; fails with its output otherwise.</summary>
    public async Task StartAsync(TimeSpan within, CancellationToken ct = default)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        start.ArgumentList.Add(dll);
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        start.Environment["ASPNETCORE_URLS"] = BaseAddress.ToString();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < within)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The API exited with {process.ExitCode} while starting:{Environment.NewLine}{Output}");
            }

            try
            {
                using var live = await http.GetAsync(readyPath, ct);
                if (live.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
            }

            await Task.Delay(100, ct);
        }

        Kill();
        throw new TimeoutException($"The API did not answer {readyPath} with 200 within {within.TotalSeconds} s:{Environment.NewLine}{Output}");
    }

    /// <summary>Waits until the process has written <paramref name="text"/>; fails with its output after <paramref name="within"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (!Wrote(text))
        {
            if (_process is null or { HasExited: true } || clock.Elapsed > within)
            {
                throw new TimeoutException($"The API did not write '{text}' within {within.TotalSeconds:0} s{(_process is null or { HasExited: true } ? " (it is not running)" : "")}. Its output:{Environment.NewLine}{Output}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// SIGTERM, as an orchestrator stopping the instance sends it; the exit code once the process
    /// has ended, or null when it has not <paramref name="within"/>.
    /// </summary>
    public async Task<int?> TerminateAsync(TimeSpan within)
    {
        if (_process is not { HasExited: false } process)
        {
            return _process?.ExitCode;
        }

        using (var signal = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await signal.WaitForExitAsync();
        }

        using var wait = new CancellationTokenSource(within);
        try
        {
            await process.WaitForExitAsync(wait.Token);
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>SIGKILL: no request is finished, no connection closed politely.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>The last lines the process wrote, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join(Environment.NewLine, _output.TakeLast(40));
            }
        }
    }

    public void Dispose() => Kill();

    private bool Wrote(string text)
    {
        lock (_output)
        {
            return _output.Exists(line => line.Contains(text, StringComparison.Ordinal));
        }
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Add(line);
            if (_output.Count > 400)
            {
                _output.RemoveRange(0, 200);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
