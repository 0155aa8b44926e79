using Claims.Api.Errors;
using Claims.Api.Validation;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Claims.Api.Http;

/// <summary>What /health/live and /health/ready answer: 200 JSON, or a 503 problem naming the failing checks.</summary>
public sealed record HealthAnswer(
    [property: System.ComponentModel.DataAnnotations.MaxLength(20)] string Status,
    IReadOnlyDictionary<string, CheckAnswer> Checks);

public sealed record CheckAnswer([property: System.ComponentModel.DataAnnotations.MaxLength(20)] string Status, long DurationMs);

public static class HealthEndpoints
{
    /// <summary>A readiness probe answers within 2 s whatever the database does; this leaves room to write the answer.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(1.5);

    public static IServiceCollection AddClaimsHealthChecks(this IServiceCollection services)
    {
        // The app's own data source: the check waits for a pooled connection like a request
        // would, and the token the timeout cancels also ends that wait.
        services.AddHealthChecks().AddNpgSql(name: "postgres", tags: ["ready"], timeout: CheckTimeout);

        // A check is cancelled at its timeout, but Npgsql gives up on a silent server only after
        // asking it to cancel on a new connection (up to the connect timeout more): stop waiting
        // for the check at the timeout instead. Nothing is lost by abandoning a SELECT 1.
        services.Configure<HealthCheckServiceOptions>(options =>
        {
            foreach (var registration in options.Registrations)
            {
                var create = registration.Factory;
                var timeout = registration.Timeout;
                if (timeout > TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
                {
                    registration.Factory = provider => new BoundedCheck(create(provider), timeout);
                }
            }
        });
        return services;
    }

    public static void MapClaimsHealth(this IEndpointRouteBuilder app)
    {
        // Their bound is the checks' timeout, not a request deadline.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .DisableRequestTimeout();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready"), ResponseWriter = WriteAsync })
            .DisableRequestTimeout();
    }

    private static async Task WriteAsync(HttpContext http, HealthReport report)
    {
        var checks = report.Entries.ToDictionary(
            entry => entry.Key,
            entry => new CheckAnswer(entry.Value.Status.ToString(), (long)Math.Round(entry.Value.Duration.TotalMilliseconds)));
        if (report.Status != HealthStatus.Unhealthy)
        {
            await http.Response.WriteAsJsonAsync(new HealthAnswer(report.Status.ToString(), checks));
            return;
        }

        var failing = report.Entries.Where(entry => entry.Value.Status == HealthStatus.Unhealthy).Select(entry => entry.Key);
        var problem = ProblemTypes.NotReady.Details($"Failing checks: {string.Join(", ", failing)}. Retry in a few seconds.");
        problem.Extensions["checks"] = checks;
        await ProblemMapping.WriteAsync(http, problem, exception: null);
    }

    /// <summary>
    /// The <c>health [url]</c> verb: asks a running API whether it is ready and exits 0 when it is,
    /// 1 when not. The runtime image has no curl, so the container's health check runs the program
    /// itself. Without a URL it asks this machine's port from ASPNETCORE_HTTP_PORTS (8080 in the image).
    /// </summary>
    public static async Task<int> ProbeAsync(string? url, TextWriter output)
    {
        var port = (Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS") ?? "8080").Split(';', ',')[0];
        var target = url ?? $"http://127.0.0.1:{port}/health/ready";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var answer = await http.GetAsync(target);
            output.WriteLine($"{target}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
            return answer.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException or InvalidOperationException)
        {
            output.WriteLine($"{target}: no answer ({e.Message})");
            return 1;
        }
    }

    private sealed class BoundedCheck(IHealthCheck check, TimeSpan timeout) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
        {
            var running = check.CheckHealthAsync(context, cancellationToken);
            try
            {
                return await running.WaitAsync(timeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                // Left to finish on its own; its outcome is observed so that it is never reported as unobserved.
                _ = running.ContinueWith(static t => t.Exception, TaskScheduler.Default);
                return new HealthCheckResult(context.Registration.FailureStatus, $"No answer within {timeout.TotalSeconds} s.");
            }
        }
    }
}
