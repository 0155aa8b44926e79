using System.Diagnostics;

namespace Claims.Tests.Infrastructure;

/// <summary>Runs a program to its end within a bound, for tests that drive the API as an operator or a reader would.</summary>
public static class ChildProcess
{
    /// <summary>Runs <paramref name="start"/> and answers its exit code and output; kills it and fails with that output after <paramref name="within"/>.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(ProcessStartInfo start, TimeSpan within)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not exit within {within.TotalSeconds} s: {await output}{await errors}");
        }

        return (process.ExitCode, await output + await errors);
    }
}
