using System.Text;
using Claims.Tests.Infrastructure;
using Npgsql;

namespace Claims.Tests;

/// <summary>The <c>import FILE</c> verb, run as an operator runs the built program, on a database of its own.</summary>
public sealed class ImportCommandTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> OneLineBatches = new() { ["Imports__BatchLines"] = "1" };

    private string _connectionString = "";

    public async Task InitializeAsync() => _connectionString = await TestDatabase.CreateAsync();

    public Task DisposeAsync() => TestDatabase.DropAsync(_connectionString);

    [Fact]
    public async Task TheImportVerbWritesTheGoodRowsReportsTheBadOnesShowsProgressAndExitsThree()
    {
        var file = Path.Combine(Path.GetTempPath(), $"claims-import-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(file,
            "statement,language,tags,sourceName,sourceKind,stance,quote\n"
            + "\"Troops were seen near Kursk.\",en,kursk,Suspilne,outlet,supports,\"They were seen, he said.\"\n"
            + ",en,kursk,,,,\n"
            + "Війська перекинули під Курськ.,uk,kursk,Суспільне,outlet,asserts,\n", new UTF8Encoding(false));
        try
        {
            // A batch per line: the reader ends while the writer still reports progress on the file.
            var (exitCode, output) = await ApiProcess.RunAsync(["import", file], _connectionString, settings: OneLineBatches);

            // 3: done, with rejected lines, which it lists.
            Assert.True(exitCode == 3, output);
            Assert.Contains("done: 3 read, 2 written, 0 unchanged, 1 rejected, 2 sources created", output, StringComparison.Ordinal);
            Assert.Contains("line 3, statement: Required", output, StringComparison.Ordinal);
            // Not a terminal here: the bar is printed as lines, the last at 100%.
            Assert.Contains("100 %", output, StringComparison.Ordinal);
            Assert.Equal(2L, await ScalarAsync("SELECT count(*) FROM claims WHERE 'kursk' = ANY(tags)"));
            Assert.Equal("import (command line)", await ScalarAsync("SELECT created_by FROM imports"));

            var (again, secondOutput) = await ApiProcess.RunAsync(["import", file], _connectionString, settings: OneLineBatches);

            Assert.True(again == 3, secondOutput);
            Assert.Contains("done: 3 read, 0 written, 2 unchanged, 1 rejected, 0 sources created", secondOutput, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task AnNdjsonFileIsReadAsNdjsonAndEveryLineIsWritten()
    {
        var file = Path.Combine(Path.GetTempPath(), $"claims-import-{Guid.NewGuid():N}.ndjson");
        await File.WriteAllLinesAsync(file,
            [.. Enumerable.Range(1, 4).Select(i => $"{{\"externalId\":\"cli-{i}\",\"statement\":\"Troops were seen near Kursk, report {i}.\",\"tags\":[\"ndjson\"]}}")]);
        try
        {
            var (exitCode, output) = await ApiProcess.RunAsync(["import", file], _connectionString, settings: OneLineBatches);

            Assert.True(exitCode == 0, output);
            Assert.Contains("done: 4 read, 4 written, 0 unchanged, 0 rejected", output, StringComparison.Ordinal);
            Assert.Equal(4L, await ScalarAsync("SELECT count(*) FROM claims WHERE 'ndjson' = ANY(tags)"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task AMissingFileIsExitTwoWithTheReason()
    {
        var (exitCode, output) = await ApiProcess.RunAsync(["import", "/nowhere/claims.csv"], _connectionString);

        Assert.Equal(2, exitCode);
        Assert.Contains("No such file: /nowhere/claims.csv", output, StringComparison.Ordinal);
    }

    private async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
