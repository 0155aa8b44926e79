namespace Claims.Tests.Infrastructure;

/// <summary>Runs the built Claims.Api program as its own process, as an operator would, from another folder.</summary>
public static class ApiProcess
{
    private static readonly string ApiDll = Path.Combine(AppContext.BaseDirectory, "Claims.Api.dll");

    public static Task<(int ExitCode, string Output)> RunAsync(
        string[] arguments, string? connectionString, string environment = "Production", IReadOnlyDictionary<string, string>? settings = null) =>
        // Another folder, to show the program does not depend on the working directory.
        ChildProcess.RunAsync("dotnet", [ApiDll, .. arguments], Path.GetTempPath(), TimeSpan.FromSeconds(60), new Dictionary<string, string>(settings ?? new Dictionary<string, string>())
        {
            ["ASPNETCORE_ENVIRONMENT"] = environment,
            ["ConnectionStrings__Claims"] = connectionString ?? "",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        });
}
