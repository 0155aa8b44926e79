using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Claims.Tests.Infrastructure;

/// <summary>
/// Node.js tools that tests run from a folder with a package.json and a package-lock.json: the
/// folder's packages are installed with <c>npm ci</c> when its lock file has changed since the last
/// install, once at a time across test classes and test runs, and its commands run with a time
/// limit. Without Node.js it fails with the fix.
/// </summary>
public static class NodeTools
{
    public const string Fix = "install Node.js 20+: apt-get install nodejs npm";

    private const int LowestMajorVersion = 20;
    private const string Stamp = ".claims-installed";
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(10);
    private static readonly ConcurrentDictionary<string, Lazy<Task>> Installs = new();
    private static readonly Lazy<Task> NodeChecked = new(CheckNodeAsync);

    // npm would otherwise ask the registry whether it has a newer version of itself.
    private static readonly Dictionary<string, string> Quiet = new()
    {
        ["npm_config_update_notifier"] = "false",
        ["npm_config_fund"] = "false",
        ["npm_config_audit"] = "false",
    };

    /// <summary>Installs the packages of <paramref name="folder"/>'s package-lock.json unless they are there already.</summary>
    public static Task EnsureInstalledAsync(string folder) =>
        Installs.GetOrAdd(Path.GetFullPath(folder), f => new Lazy<Task>(() => InstallAsync(f))).Value;

    /// <summary>
    /// Runs <paramref name="command"/> in <paramref name="folder"/>: a program of node_modules/.bin
    /// in that folder or one above it (tsc, openapi-typescript, redocly...), or else node or npm.
    /// Fails after five minutes.
    /// </summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string folder, string command, params string[] args) =>
        RunAsync(folder, DefaultTimeout, command, args);

    /// <inheritdoc cref="RunAsync(string, string, string[])"/>
    public static async Task<(int ExitCode, string Output)> RunAsync(string folder, TimeSpan timeout, string command, params string[] args)
    {
        await NodeChecked.Value;
        var program = PackageProgram(folder, command) ?? OnPath(command)
            ?? throw new InvalidOperationException($"'{command}' is neither in node_modules/.bin of {folder} (or a folder above it) nor on PATH. Did EnsureInstalledAsync run for the folder with the package.json?");
        return await ChildProcess.RunAsync(program, args, folder, timeout, Quiet);
    }

    private static async Task InstallAsync(string folder)
    {
        await NodeChecked.Value;
        var lockFile = Path.Combine(folder, "package-lock.json");
        if (!File.Exists(lockFile))
        {
            throw new InvalidOperationException($"{folder} has no package-lock.json: run npm install there once and commit the lock file.");
        }

        var wanted = Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(lockFile)));
        var stamp = Path.Combine(folder, "node_modules", Stamp);
        if (File.Exists(stamp) && await File.ReadAllTextAsync(stamp) == wanted)
        {
            return;
        }

        // Another test run may be installing the same folder: npm ci starts by deleting node_modules.
        await using var installing = await LockAsync(folder);
        if (File.Exists(stamp) && await File.ReadAllTextAsync(stamp) == wanted)
        {
            return;
        }

        var (exitCode, output) = await ChildProcess.RunAsync(OnPath("npm") ?? throw Missing("npm"), ["ci"], folder, InstallTimeout, Quiet);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"npm ci in {folder} failed with exit code {exitCode}:{Environment.NewLine}{output}");
        }

        await File.WriteAllTextAsync(stamp, wanted);
    }

    private static async Task CheckNodeAsync()
    {
        var node = OnPath("node") ?? throw Missing("node");
        _ = OnPath("npm") ?? throw Missing("npm");
        var (exitCode, output) = await ChildProcess.RunAsync(node, ["--version"], Path.GetTempPath(), TimeSpan.FromSeconds(30));
        var major = output.Trim().TrimStart('v').Split('.')[0];
        if (exitCode != 0 || !int.TryParse(major, out var version) || version < LowestMajorVersion)
        {
            throw new InvalidOperationException($"Node.js {output.Trim()} is too old or does not run: {Fix}");
        }
    }

    private static string? PackageProgram(string folder, string command)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(folder)); dir is not null; dir = dir.Parent)
        {
            var program = Path.Combine(dir.FullName, "node_modules", ".bin", command);
            if (File.Exists(program))
            {
                return program;
            }
        }

        return null;
    }

    private static string? OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);

    private static InvalidOperationException Missing(string program) =>
        new($"'{program}' is not on PATH; the tests that run Node.js tools need it: {Fix}");

    /// <summary>An exclusive lock on a file named after the folder, held until disposed; waits for another holder up to the install timeout.</summary>
    private static async Task<FileStream> LockAsync(string folder)
    {
        var name = Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(folder)))[..16];
        var path = Path.Combine(Path.GetTempPath(), $"claims-npm-{name}.lock");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (waited.Elapsed < InstallTimeout)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
    }
}
