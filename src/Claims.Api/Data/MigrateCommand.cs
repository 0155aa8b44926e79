using Claims.Api.Seeding;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Data;

/// <summary>
/// The <c>migrate</c> verb: brings the schema up to date once and exits, for a deploy step that
/// runs before the instances start (each then runs with Database:MigrateOnStartup=false), rather
/// than leaving it to whichever instance takes the migration lock first. With
/// Database:SeedWhenEmpty it then loads the seed story into an empty database, as start-up would.
/// </summary>
public static class MigrateCommand
{
    public static async Task<int> RunAsync(WebApplication app)
    {
        IReadOnlyList<string> applied;
        try
        {
            applied = Database.Migrate(app.Configuration.GetConnectionString(Database.ConnectionStringName)!, app.Logger);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            // Nothing half-done: each script runs in a transaction of its own and is recorded with it.
            await Console.Error.WriteLineAsync($"Claims API cannot migrate: {e.Message}");
            return 1;
        }

        Console.WriteLine(applied.Count == 0
            ? "The schema is up to date: no migration to apply."
            : $"Applied {applied.Count} migrations: {string.Join(", ", applied)}.");
        if (app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.SeedWhenEmpty == true
            && await SeedStory.LoadIfEmptyAsync(
                app.Services.GetRequiredService<NpgsqlDataSource>(),
                app.Services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions,
                CancellationToken.None) is { } counts)
        {
            Console.WriteLine($"Empty database: loaded the seed story ({counts.Sources} sources, {counts.Claims} claims, {counts.Evidence} evidence items).");
        }

        return 0;
    }
}
