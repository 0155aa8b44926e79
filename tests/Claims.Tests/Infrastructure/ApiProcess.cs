using System.Diagnostics;

namespace Claims.Tests.Infrastructure;

/// <summary>Runs the built Claims.Api program as its own process, as an operator would, from another folder.</summary>
public static class ApiProcess
{
    private static readonly string ApiDll = Path.Combine(AppContext.BaseDirectory, "Claims.Api.dll");

    public static Task<(int ExitCode, string Output)> RunAsync(string[] arguments, string? connectionString, string environment = "Production")
    {
        var start = new ProcessStartInfo("dotnet")
        {
            // Another folder, to show the program does not depend on the working directory.
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(ApiDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = environment;
        start.Environment["ConnectionStrings__Claims"] = connectionString ?? "";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";

        return ChildProcess.RunAsync(start, TimeSpan.FromSeconds(60));
    }
}
