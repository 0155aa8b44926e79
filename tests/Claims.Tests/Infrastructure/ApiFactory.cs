using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Claims.Tests.Infrastructure;

/// <summary>
/// The real app over HTTP on a database of its own: one instance per test class
/// (IClassFixture), so no test class sees another's rows. Rate limits and the limit of failed
/// authentications are off here (many tests send unknown keys); the tests of limits start their
/// own factory with them on, counting in memory: those of a class share its database and often a
/// key, and a count kept in the database would carry over from one test to the next within the
/// minute. SharedRateLimitTests and BalancerTests count in the database.
/// </summary>
public sealed partial class ApiFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    /// <summary>The bootstrap admin key this instance accepts.</summary>
    public string AdminKey { get; } = "test-admin-" + Guid.NewGuid().ToString("N");

    public string ConnectionString { get; private set; } = "";

    /// <summary>Settings a derived fixture or a test adds before the app starts.</summary>
    public Dictionary<string, string?> Settings { get; } = new()
    {
        ["RateLimiting:RequestsPerMinute"] = "0",
        ["RateLimiting:WritesPerMinute"] = "0",
        ["RateLimiting:Shared"] = "false",
        ["Auth:FailedAuthenticationsPerMinute"] = "0",
    };

    public async Task InitializeAsync() => ConnectionString = await TestDatabase.CreateAsync();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:Claims", ConnectionString);
        builder.UseSetting("Database:SeedWhenEmpty", "false");
        builder.UseSetting("Auth:BootstrapAdminKey", AdminKey);
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>
    /// A client with the admin key that behaves like a careful editor: on a PUT or DELETE of a
    /// claim, a source or a status without If-Match, it first reads the current ETag and sends
    /// it. Tests of If-Match itself use <see cref="CreateClient(string?, bool)"/> without that.
    /// </summary>
    public new HttpClient CreateClient() => CreateClient(AdminKey);

    public HttpClient CreateClient(string? apiKey, bool sendCurrentETag = true)
    {
        var client = sendCurrentETag ? CreateDefaultClient(new CurrentETagHandler(apiKey)) : CreateDefaultClient();
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await TestDatabase.DropAsync(ConnectionString);
    }

    private sealed partial class CurrentETagHandler(string? apiKey) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if ((request.Method == HttpMethod.Put || request.Method == HttpMethod.Delete)
                && request.Headers.IfMatch.Count == 0
                && Guarded().Match(request.RequestUri!.AbsolutePath) is { Success: true } match)
            {
                using var read = new HttpRequestMessage(HttpMethod.Get, new Uri(request.RequestUri, match.Groups["resource"].Value));
                if (apiKey is not null)
                {
                    read.Headers.Add("X-Api-Key", apiKey);
                }

                using var current = await base.SendAsync(read, cancellationToken);
                // A resource that does not exist has no ETag: any tag lets the request reach the 404.
                request.Headers.IfMatch.Add(current.Headers.ETag ?? new EntityTagHeaderValue("\"1\""));
            }

            return await base.SendAsync(request, cancellationToken);
        }

        [GeneratedRegex(@"^(?<resource>/(claims|sources)/[0-9a-fA-F-]{36})(/status)?$")]
        private static partial Regex Guarded();
    }
}
