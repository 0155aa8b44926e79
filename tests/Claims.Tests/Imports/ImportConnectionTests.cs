using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Claims.Tests.Infrastructure;
using Npgsql;

namespace Claims.Tests;

/// <summary>
/// An import whose client drops the connection mid-upload, against the API as a real Kestrel
/// process, so that the drop is a TCP reset and not an exception in the test's own host.
/// </summary>
public sealed class ImportConnectionTests : IAsyncLifetime
{
    private const int BatchLines = 50;
    private string _connectionString = "";
    private ApiServer _api = null!;

    public async Task InitializeAsync()
    {
        _connectionString = await TestDatabase.CreateAsync();
        _api = await ApiServer.StartAsync(_connectionString, new Dictionary<string, string> { ["Imports:BatchLines"] = BatchLines.ToString(CultureInfo.InvariantCulture) });
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await TestDatabase.DropAsync(_connectionString);
    }

    [Fact]
    public async Task ADroppedConnectionLeavesTheLinesWrittenBeforeItIntactAndReportsExactlyThoseAsWritten()
    {
        const int lines = 120;
        var tag = "drop" + Guid.NewGuid().ToString("N")[..10];
        var body = new StringBuilder();
        for (var i = 1; i <= lines; i++)
        {
            body.Append(CultureInfo.InvariantCulture, $"{{\"externalId\":\"{tag}-{i}\",\"statement\":\"Soldiers were seen near Kursk, report {i}.\",\"tags\":[\"{tag}\"]}}\n");
        }

        // Half a line at the end, which must not be written: the upload breaks inside it.
        body.Append(CultureInfo.InvariantCulture, $"{{\"externalId\":\"{tag}-{lines + 1}\",\"statement\":\"Cut off");

        using (var socket = new TcpClient())
        {
            await socket.ConnectAsync(_api.Address.Host, _api.Address.Port);
            var stream = socket.GetStream();
            var data = Encoding.UTF8.GetBytes(body.ToString());
            var head = $"POST /imports HTTP/1.1\r\nHost: {_api.Address.Authority}\r\nX-Api-Key: {_api.AdminKey}\r\nContent-Type: application/x-ndjson\r\n"
                + $"Transfer-Encoding: chunked\r\n\r\n{data.Length:X}\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(data);
            await stream.WriteAsync("\r\n"u8.ToArray());
            await stream.FlushAsync();

            // Two full batches settled: the server is inside the upload. Then a reset, not a close.
            for (var i = 0; i < 200 && await ScalarAsync("SELECT coalesce(max(settled_through), 0) FROM imports") < 2 * BatchLines; i++)
            {
                await Task.Delay(50);
            }

            Assert.True(await ScalarAsync("SELECT coalesce(max(settled_through), 0) FROM imports") >= 2 * BatchLines, "Two batches were not settled within 10 s.");
            socket.Client.LingerState = new LingerOption(true, 0);
        }

        using var client = _api.CreateClient(_api.AdminKey);
        var id = await ScalarGuidAsync("SELECT id FROM imports");
        JsonElement job = default;
        for (var i = 0; i < 200; i++)
        {
            job = await client.GetFromJsonAsync<JsonElement>($"/imports/{id}");
            if (job.Str("state") != "running")
            {
                break;
            }

            await Task.Delay(50);
        }

        Assert.Equal("failed", job.Str("state"));
        Assert.Contains("broke off", job.Str("failure"), StringComparison.Ordinal);
        var settled = job.GetProperty("settledThrough").GetInt32();
        Assert.InRange(settled, 2 * BatchLines, lines);
        Assert.Equal(settled, job.GetProperty("written").GetInt32());
        Assert.Equal(0, job.GetProperty("rejected").GetInt32());
        // Exactly the lines reported as written are stored: 1 to settledThrough, each once.
        var stored = await ScalarAsync($"SELECT count(*) FROM claims WHERE '{tag}' = ANY(tags)");
        var expected = string.Join(",", Enumerable.Range(1, settled).Select(i => $"'{tag}-{i}'"));
        Assert.Equal(settled, stored);
        Assert.Equal(settled, await ScalarAsync($"SELECT count(*) FROM claims WHERE external_id IN ({expected})"));
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private async Task<Guid> ScalarGuidAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (Guid)(await command.ExecuteScalarAsync())!;
    }
}
