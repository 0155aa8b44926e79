using Claims.Api.Claims;
using Claims.Api.Evidence;
using Claims.Api.Infrastructure;
using Claims.Api.Seeding;
using Claims.Api.Sources;
using Claims.Api.Stats;
using Claims.Api.Verification;

// `seed` loads the demo story and exits; anything else runs the API.
var seedOnly = args.Length > 0 && args[0] == "seed";
var builder = WebApplication.CreateBuilder(seedOnly ? args[1..] : args);

try
{
    await builder.AddClaimsDatabaseAsync();
}
catch (DatabaseSetupException e)
{
    // A configuration mistake, not a crash: say what to do, without a stack trace.
    Console.Error.WriteLine($"Claims API cannot start: {e.Message}");
    return 1;
}

builder.Services.AddClaimsApi(builder.Configuration);

var app = builder.Build();

if (seedOnly)
{
    return await SeedCommand.RunAsync(app);
}

await app.PrepareDatabaseAsync();
app.UseClaimsApi();

var api = app.MapGroup("").WithValidation().WithCommonProblems();
api.MapSources();
api.MapClaims();
api.MapEvidence();
api.MapVerification();
api.MapStats();

app.Lifetime.ApplicationStarted.Register(() =>
{
    foreach (var url in app.Urls)
    {
        app.Logger.LogInformation("Swagger UI: {Url}/swagger", url.TrimEnd('/'));
    }
});

await app.RunAsync();
return 0;
