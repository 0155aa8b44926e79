using Claims.Tests.Infrastructure;
using Npgsql;

namespace Claims.Tests;

/// <summary>Events older than Events:RetentionDays are purged in the background; younger ones stay.</summary>
public sealed class EventRetentionTests : IClassFixture<ApiFactory>
{
    private readonly ApiFactory _api;
    private readonly HttpClient _client;

    public EventRetentionTests(ApiFactory api)
    {
        api.Settings["Events:RetentionDays"] = "2";
        api.Settings["Events:PurgeIntervalSeconds"] = "1";
        _api = api;
        _client = api.CreateClient();
    }

    [Fact]
    public async Task EventsOlderThanTheRetentionAreRemovedFromTheFeedAndYoungerOnesStay()
    {
        var kept = await _client.SourceAsync();
        var old = new List<Guid>();
        await using (var connection = new NpgsqlConnection(_api.ConnectionString))
        {
            await connection.OpenAsync();
            for (var i = 0; i < 3; i++)
            {
                var id = Guid.NewGuid();
                old.Add(id);
                await using var insert = new NpgsqlCommand(
                    """
                    INSERT INTO event_outbox (type, subject, actor, data, time) VALUES ('source.deleted', @id, 'old', jsonb_build_object('id', @id), now() - interval '3 days')
                    """, connection);
                insert.Parameters.AddWithValue("id", id);
                await insert.ExecuteNonQueryAsync();
            }

            await using var young = new NpgsqlCommand(
                """
                INSERT INTO event_outbox (type, subject, actor, data, time) VALUES ('source.deleted', gen_random_uuid(), 'young', '{}', now() - interval '1 day')
                """, connection);
            await young.ExecuteNonQueryAsync();
        }

        await Feed.SettleEventsAsync(_api.ConnectionString);

        // The purge runs every second; 20 s is far more than it needs.
        List<JsonElement> events = [];
        for (var attempt = 0; attempt < 200; attempt++)
        {
            events = await _client.ReadAsync(0);
            if (!events.Any(e => old.Contains(e.GetProperty("subject").GetGuid())))
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.DoesNotContain(events, e => old.Contains(e.GetProperty("subject").GetGuid()));
        Assert.Contains(events, e => e.Str("type") == "source.created" && e.GetProperty("subject").GetGuid() == kept);
        Assert.Contains(events, e => e.Str("actor") == "young");
    }
}
