using Claims.Api.Auth;
using Claims.Api.Claims;
using Claims.Api.Claims.Relations;
using Claims.Api.Data;
using Claims.Api.Desk;
using Claims.Api.Errors;
using Claims.Api.Events;
using Claims.Api.Evidence;
using Claims.Api.Exports;
using Claims.Api.Hosting;
using Claims.Api.Http;
using Claims.Api.Imports;
using Claims.Api.Publishing;
using Claims.Api.Seeding;
using Claims.Api.Sources;
using Claims.Api.Sources.Record;
using Claims.Api.Sources.Relations;
using Claims.Api.Stats;
using Claims.Api.Validation;
using Claims.Api.Verification;
using Claims.Api.Webhooks;

// Verbs: `seed` loads the demo story, `keys create ...` mints an API key, `import FILE` imports claims, `migrate` brings
// the schema up to date and exits, `health [url]` asks a running API whether it is ready (the container's health
// check); anything else runs the API.
if (args is ["health", ..])
{
    return await HealthEndpoints.ProbeAsync(args.Length > 1 ? args[1] : null, Console.Out);
}

var verb = args.Length > 0 && args[0] is "seed" or "keys" or "import" or "migrate" ? args[0] : null;
var builder = WebApplication.CreateBuilder(verb is null ? args : []);

string? privateFolder;
try
{
    privateFolder = await builder.AddClaimsDatabaseAsync();
}
catch (DatabaseSetupException e)
{
    // A configuration mistake, not a crash: say what to do, without a stack trace.
    Console.Error.WriteLine($"Claims API cannot start: {e.Message}");
    return 1;
}

if (privateFolder is not null && verb is null)
{
    builder.UseDevelopmentAdminKey(Path.GetDirectoryName(privateFolder)!);
}

// Npgsql sends a cancellation (a command's timeout, a token cancelled) over a new connection, and
// synchronously: while the database stalls, each background loop that times out (the listeners,
// the webhook worker) holds a pool thread for as long as that connection attempt lasts. With the
// pool's floor at the core count, two of them left the request deadline's 503s waiting a second
// or two for a thread to be added; a higher floor starts threads at once instead.
ThreadPool.GetMinThreads(out var workers, out var completionPorts);
ThreadPool.SetMinThreads(Math.Max(workers, Environment.ProcessorCount * 8), completionPorts);

builder.AddRequestLimits();
builder.Services.AddClaimsApi(builder.Configuration);
builder.Services.AddClaims(builder.Configuration);
builder.Services.AddApiKeys(builder.Configuration);
builder.Services.AddEvents(builder.Configuration);
builder.Services.AddEventStream(builder.Configuration);
builder.Services.AddWebhooks(builder.Configuration);
builder.Services.AddDesk(builder.Configuration);
builder.Services.AddPublishing(builder.Configuration);
builder.Services.AddImports(builder.Configuration);
builder.Services.AddClaimsTelemetry(builder.Configuration);

var app = builder.Build();

switch (verb)
{
    case "seed":
        return await SeedCommand.RunAsync(app);
    case "keys":
        return await AuthSetup.RunKeysCommandAsync(app, args[1..]);
    case "import":
        return await ImportCommand.RunAsync(app, args[1..]);
    case "migrate":
        return await MigrateCommand.RunAsync(app);
}

await app.PrepareDatabaseAsync();
app.UseClaimsApi();

var api = app.MapGroup("").WithWholeAnswers().WithNextLinks().WithValidation().WithCommonProblems().WithReadRetries();
api.MapSources();
api.MapSourceRelations();
api.MapClaimRelations();
api.MapSourceRecord();
api.MapClaims();
api.MapEvidence();
api.MapEvidenceExport();
api.MapVerification();
api.MapStats();
api.MapKeys();
api.MapEvents();
api.MapEventStream();
api.MapWebhooks();
api.MapDesk();
api.MapClaimReviews();
api.MapImports();
app.MapClaimsMetrics();

app.Lifetime.ApplicationStarted.Register(() =>
{
    foreach (var url in app.Urls)
    {
        app.Logger.LogInformation("Desk: {Url}/", url.TrimEnd('/'));
        app.Logger.LogInformation("Swagger UI: {Url}/swagger", url.TrimEnd('/'));
    }
});

await app.RunAsync();
return 0;
