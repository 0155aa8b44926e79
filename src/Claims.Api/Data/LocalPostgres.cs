using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Claims.Api.Json;
using Claims.Api.Validation;
using Npgsql;

namespace Claims.Api.Data;

/// <summary>
/// A private PostgreSQL server for development and tests, run from the machine's own PostgreSQL
/// programs with its data in a git-ignored folder of the checkout. It is started once and left
/// running, so later runs and test classes reuse it.
/// </summary>
public static class LocalPostgres
{
    private const string ServiceAccount = "postgres";
    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>The folder the instance lives in: <c>.local/postgres</c> beside Claims.sln, or under <paramref name="start"/> outside a checkout.</summary>
    public static string DefaultFolder(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Claims.sln")))
            {
                return Path.Combine(dir.FullName, ".local", "postgres");
            }
        }

        return Path.Combine(start, ".local", "postgres");
    }

    /// <summary>Starts the instance in <paramref name="folder"/> unless it is already running, and returns a connection string to its <c>postgres</c> database.</summary>
    public static Task<string> EnsureRunningAsync(string folder, CancellationToken cancellationToken = default) =>
        EnsureAsync(folder, (bin, data, runAs, workingDirectory) => RunAsync(Path.Combine(bin, "initdb"),
            ["-D", data, "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--auth=trust"], runAs, workingDirectory, cancellationToken),
            () => Task.FromResult(MaxConnections), cancellationToken);

    /// <summary>
    /// Makes <paramref name="folder"/> a streaming standby of the server at <paramref name="primary"/>
    /// (a base backup with <c>pg_basebackup -R</c>, which writes the connection back to the primary)
    /// unless it is one already, starts it on a port of its own, and returns a connection string to
    /// its <c>postgres</c> database. For the tests and the benchmark of read replicas; the primary
    /// must accept replication connections from 127.0.0.1, as one made by initdb does.
    /// </summary>
    public static Task<string> EnsureStandbyRunningAsync(string primary, string folder, CancellationToken cancellationToken = default)
    {
        var source = new NpgsqlConnectionStringBuilder(primary);
        return EnsureAsync(folder, (bin, data, runAs, workingDirectory) => RunAsync(Path.Combine(bin, "pg_basebackup"),
            ["-h", source.Host!, "-p", source.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", source.Username ?? "postgres",
             "-D", data, "-R", "-X", "stream", "--checkpoint=fast"], runAs, workingDirectory, cancellationToken),
            async () =>
            {
                // A hot standby refuses to start with fewer connections than its primary allows.
                await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(primary) { Pooling = false }.ConnectionString);
                await connection.OpenAsync(cancellationToken);
                await using var show = new NpgsqlCommand("SELECT current_setting('max_connections')", connection);
                var allowed = (string)(await show.ExecuteScalarAsync(cancellationToken))!;
                return Math.Max(MaxConnections, int.Parse(allowed, System.Globalization.CultureInfo.InvariantCulture));
            },
            cancellationToken);
    }

    /// <summary>
    /// Prepares the folder for the service account, makes its data with <paramref name="create"/>
    /// (given the programs' folder, the data folder, the account and the folder to run in) unless
    /// they exist, and starts the server unless it is running.
    /// </summary>
    private static async Task<string> EnsureAsync(string folder, Func<string, string, string?, string, Task> create, Func<Task<int>> maxConnections, CancellationToken cancellationToken)
    {
        await Gate.WaitAsync(cancellationToken);
        try
        {
            folder = Path.GetFullPath(folder);
            Directory.CreateDirectory(folder);
            // The file lock keeps two processes (the API and a test run) from starting it together.
            await using var fileLock = await AcquireFileLockAsync(Path.Combine(folder, "..", "postgres.lock"), cancellationToken);

            var bin = FindServerPrograms();
            var runAs = ServiceAccountIfRoot();
            if (runAs is not null)
            {
                await RunAsync("chown", [runAs, folder], null, folder, cancellationToken);
                folder = await ReachableFolderAsync(folder, runAs, cancellationToken);
            }

            var data = Path.Combine(folder, "data");
            if (!File.Exists(Path.Combine(data, "PG_VERSION")))
            {
                await create(bin, data, runAs, folder);
            }

            return await StartAsync(bin, folder, runAs, cancellationToken, await maxConnections());
        }
        finally
        {
            Gate.Release();
        }
    }

    // The test suite runs some forty apps and a dozen API processes side by side on one server,
    // each with a pool of its own: it reached 172 connections, and 200 was once too few.
    private const int MaxConnections = 400;

    private static async Task<string> StartAsync(string bin, string folder, string? runAs, CancellationToken cancellationToken, int maxConnections)
    {
        var data = Path.Combine(folder, "data");
        var port = RunningPort(data);
        if (port is null || !await AcceptsConnectionsAsync(port.Value, cancellationToken))
        {
            // The port of the last start, if it is still free, so that a restarted server is
            // where its clients' connection strings expect it.
            var portFile = Path.Combine(folder, "port");
            port = File.Exists(portFile) && int.TryParse(File.ReadAllText(portFile), out var last) && IsFree(last) ? last : FreeLoopbackPort();
            File.WriteAllText(portFile, port.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await RunAsync(Path.Combine(bin, "pg_ctl"),
                ["start", "-D", data, "-w", "-t", "60", "-l", Path.Combine(folder, "server.log"),
                 "-o", $"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections={maxConnections} -c fsync=on"],
                runAs, folder, cancellationToken, ServerEnvironment);
        }

        return new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port.Value,
            Username = "postgres",
            Database = "postgres",
        }.ConnectionString;
    }

    /// <summary>Where the data of the instance for <paramref name="folder"/> really are (see <see cref="ReachableFolderAsync"/>).</summary>
    public static string DataFolder(string folder)
    {
        var pointer = Path.Combine(Path.GetFullPath(folder) + ".location");
        return File.Exists(pointer) ? File.ReadAllText(pointer).Trim() : Path.GetFullPath(folder);
    }

    /// <summary>
    /// The service account must be able to reach the folder: a checkout under /root, say, is
    /// closed to it. Then the data go to a folder of their own under the temporary directory,
    /// named after the checkout's, and a pointer beside the checkout's folder says where.
    /// </summary>
    private static async Task<string> ReachableFolderAsync(string folder, string runAs, CancellationToken cancellationToken)
    {
        var pointer = folder + ".location";
        if (await ExitCodeAsync(FindRunUser(), ["-u", runAs, "--", "test", "-w", folder], cancellationToken) == 0)
        {
            File.Delete(pointer);
            return folder;
        }

        var name = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(folder)))[..12];
        var fallback = Path.Combine(Path.GetTempPath(), $"claims-postgres-{name}");
        Directory.CreateDirectory(fallback);
        await RunAsync("chown", [runAs, fallback], null, fallback, cancellationToken);
        await File.WriteAllTextAsync(pointer, fallback, cancellationToken);
        return fallback;
    }

    private static async Task<int> ExitCodeAsync(string program, string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode;
    }

    private static string FindServerPrograms()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("PG_BIN") is { Length: > 0 } configured)
        {
            candidates.Add(configured);
        }

        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var major) ? major : 0)
                .Select(d => Path.Combine(d, "bin")));
        }

        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries));

        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")))
            ?? throw new InvalidOperationException(
                "No PostgreSQL server programs (initdb, pg_ctl) were found in /usr/lib/postgresql/*/bin, PG_BIN or PATH. " +
                "Install them (Debian: `apt-get install postgresql`), or point the app at a running server with " +
                "ConnectionStrings__Claims (tests: CLAIMS_TEST_CONNECTION).");
    }

    /// <summary>PostgreSQL refuses to run as root, so as root the server runs as the package's service account.</summary>
    private static string? ServiceAccountIfRoot()
    {
        if (Environment.UserName != "root")
        {
            return null;
        }

        if (!File.ReadLines("/etc/passwd").Any(line => line.StartsWith(ServiceAccount + ":", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException(
                "Running as root, and PostgreSQL refuses to run as root, but there is no 'postgres' user to run it as. " +
                "Create one (`useradd --system postgres`, or install Debian's postgresql package), run as an ordinary user, " +
                "or set ConnectionStrings__Claims (tests: CLAIMS_TEST_CONNECTION).");
        }

        return ServiceAccount;
    }

    /// <summary>Stops the instance in <paramref name="folder"/> (fast shutdown: open sessions are ended).</summary>
    public static async Task StopAsync(string folder, CancellationToken cancellationToken = default)
    {
        folder = DataFolder(folder);
        await RunAsync(Path.Combine(FindServerPrograms(), "pg_ctl"), ["stop", "-D", Path.Combine(folder, "data"), "-m", "fast", "-w"],
            ServiceAccountIfRoot(), folder, cancellationToken);
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int? RunningPort(string data)
    {
        // postmaster.pid's fourth line is the port the running server listens on.
        var pidFile = Path.Combine(data, "postmaster.pid");
        try
        {
            var lines = File.Exists(pidFile) ? File.ReadAllLines(pidFile) : [];
            return lines.Length > 3 && int.TryParse(lines[3], out var port) ? port : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static async Task<bool> AcceptsConnectionsAsync(int port, CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<FileStream> AcquireFileLockAsync(string path, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    /// <summary>
    /// glibc hands freed memory back to the system once 128 kB lie free at the top of the heap, and
    /// a search's executor frees more than that at its end: every search then shrank and regrew the
    /// backend's heap, and each shrink flushed the TLBs of both cores (a fifth of the server's CPU at
    /// 2,000 searches a second; the rare-word search ran at 1,249/s with it, 2,470/s without). A
    /// backend keeps up to 64 MB free instead. Setting one threshold stops glibc from raising the
    /// other as it goes, so blocks up to 32 MB come from the heap too rather than from mappings of
    /// their own, whose release flushes the TLBs the same way. docker-compose.yml sets the same.
    /// </summary>
    internal static readonly Dictionary<string, string> ServerEnvironment = new()
    {
        ["GLIBC_TUNABLES"] = "glibc.malloc.trim_threshold=67108864:glibc.malloc.mmap_threshold=33554432",
    };

    private static async Task RunAsync(string program, string[] arguments, string? runAs, string workingDirectory, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo
        {
            FileName = runAs is null ? program : FindRunUser(),
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        if (runAs is not null)
        {
            foreach (var part in new[] { "-u", runAs, "--", program })
            {
                start.ArgumentList.Add(part);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            var hint = runAs is null ? "" :
                $" The server runs as the '{runAs}' user: it needs to reach {workingDirectory} (every parent folder must be searchable by it).";
            throw new InvalidOperationException(
                $"The private PostgreSQL could not be prepared: `{Path.GetFileName(program)} {string.Join(' ', arguments)}` exited with {process.ExitCode}.{hint}" +
                $"{Environment.NewLine}{await output}{await errors}" +
                $"{Environment.NewLine}Fix the cause above, delete {workingDirectory} to start afresh, or set ConnectionStrings__Claims (tests: CLAIMS_TEST_CONNECTION) to use another server.");
        }
    }

    private static string FindRunUser() =>
        new[] { "/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("Running as root needs `runuser` (util-linux) to start PostgreSQL as the postgres user; install util-linux, or set ConnectionStrings__Claims.");
}
