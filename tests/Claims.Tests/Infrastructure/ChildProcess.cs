using System.Diagnostics;

namespace Claims.Tests.Infrastructure;

/// <summary>Runs a program to its end within a time limit, for the tests that drive tools and the built API from outside.</summary>
public static class ChildProcess
{
    /// <summary>
    /// Runs <paramref name="program"/> in <paramref name="folder"/> and returns its exit code and
    /// everything it wrote (standard output, then standard error). Past <paramref name="timeout"/>
    /// it kills the program and what it started, and fails with what it had written.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(
        string program, IEnumerable<string> arguments, string folder, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds:0} s:{Environment.NewLine}{await Drained(output)}{await Drained(errors)}");
        }

        return (process.ExitCode, await Drained(output) + await Drained(errors));
    }

    // A grandchild that outlived the program (or its kill) may still hold the pipe open: what was
    // written so far is enough, and the test must not wait for it.
    private static async Task<string> Drained(Task<string> reading)
    {
        try
        {
            return await reading.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            return "(output still open after 10 s: a process the program started holds it)";
        }
    }
}
