using Claims.Api.Data;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Claims.Api.Seeding;

/// <summary>The <c>seed</c> verb: migrate, load the story, say what was new.</summary>
public static class SeedCommand
{
    public static async Task<int> RunAsync(WebApplication app)
    {
        Database.Migrate(app.Configuration.GetConnectionString(Database.ConnectionStringName)!, app.Logger);
        var counts = await SeedStory.LoadAsync(
            app.Services.GetRequiredService<NpgsqlDataSource>(),
            app.Services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions,
            CancellationToken.None);
        Console.WriteLine($"Seed story loaded from {SeedStory.DefaultPath}: {counts.Sources} new sources, {counts.Claims} new claims, {counts.Evidence} new evidence items (rows already present are left as they are).");
        return 0;
    }
}
