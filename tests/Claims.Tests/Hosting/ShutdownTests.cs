using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// SIGTERM, as an orchestrator stopping one instance sends it: the instance ends its event
/// streams with a retry hint, so that their clients come back at once (to another instance),
/// and exits cleanly.
/// </summary>
public sealed class ShutdownTests : IAsyncLifetime
{
    private string _connectionString = "";

    public async Task InitializeAsync() => _connectionString = await TestDatabase.CreateAsync();

    public Task DisposeAsync() => TestDatabase.DropAsync(_connectionString);

    [Fact]
    public async Task OnSigtermAnOpenEventStreamEndsWithARetryHintAndTheProcessExitsZero()
    {
        await using var server = await ApiServer.StartAsync(_connectionString);
        using var client = server.CreateClient(server.AdminKey);
        await using var stream = await EventStreamReader.OpenAsync(client, "/events/stream?fromNow=true");
        Assert.NotEqual(TimeSpan.FromSeconds(1), stream.ReconnectionInterval);

        var exit = await server.TerminateAsync(TimeSpan.FromSeconds(20));

        Assert.True(await stream.EndsWithinAsync(TimeSpan.FromSeconds(5)), "The stream did not end.");
        Assert.Equal(TimeSpan.FromSeconds(1), stream.ReconnectionInterval);
        Assert.True(exit == 0, $"The process exited with {exit?.ToString() ?? "nothing (still running)"}: {server.Output}");
    }
}
