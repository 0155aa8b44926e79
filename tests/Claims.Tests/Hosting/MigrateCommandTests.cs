using Claims.Tests.Infrastructure;

namespace Claims.Tests;

/// <summary>
/// The <c>migrate</c> verb, run as a deploy step runs the built program: it creates and migrates
/// a database that does not exist yet, then finds nothing to do, and fails with a message and
/// exit code 1 when the database cannot be reached.
/// </summary>
public sealed class MigrateCommandTests : IAsyncLifetime
{
    private string _connectionString = "";

    public async Task InitializeAsync() => _connectionString = await TestDatabase.UnusedAsync();

    public Task DisposeAsync() => TestDatabase.DropAsync(_connectionString);

    [Fact]
    public async Task TheVerbAppliesEveryMigrationOnceThenFindsNothingToDo()
    {
        var scripts = Directory.GetFiles(Path.Combine(Repository.Root, "db"), "*.sql").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();

        var (exitCode, output) = await ApiProcess.RunAsync(["migrate"], _connectionString);

        Assert.True(exitCode == 0, output);
        Assert.Contains($"Applied {scripts.Count} migrations: {string.Join(", ", scripts)}.", output, StringComparison.Ordinal);
        Assert.Equal(scripts.Count, await TestDatabase.ScalarAsync(_connectionString, "SELECT count(*) FROM schema_migrations"));
        Assert.Equal(0L, await TestDatabase.ScalarAsync(_connectionString, "SELECT count(*) FROM claims"));

        var (again, secondOutput) = await ApiProcess.RunAsync(["migrate"], _connectionString);

        Assert.True(again == 0, secondOutput);
        Assert.Contains("The schema is up to date: no migration to apply.", secondOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithSeedWhenEmptyTheVerbLoadsTheSeedStoryOnce()
    {
        var seeding = new Dictionary<string, string> { ["Database__SeedWhenEmpty"] = "true" };

        var (exitCode, output) = await ApiProcess.RunAsync(["migrate"], _connectionString, settings: seeding);
        var (again, secondOutput) = await ApiProcess.RunAsync(["migrate"], _connectionString, settings: seeding);

        Assert.True(exitCode == 0, output);
        Assert.Contains("Empty database: loaded the seed story (10 sources, 9 claims, 17 evidence items).", output, StringComparison.Ordinal);
        Assert.True(again == 0, secondOutput);
        Assert.DoesNotContain("seed story", secondOutput, StringComparison.Ordinal);
        Assert.Equal(9L, await TestDatabase.ScalarAsync(_connectionString, "SELECT count(*) FROM claims"));
    }

    [Fact]
    public async Task AnUnreachableDatabaseIsExitCodeOneWithTheReason()
    {
        var (exitCode, output) = await ApiProcess.RunAsync(["migrate"], "Host=127.0.0.1;Port=1;Username=postgres;Database=claims;Timeout=2");

        Assert.Equal(1, exitCode);
        Assert.Contains("Claims API cannot migrate:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }
}
