using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Claims.Api.Auth;
using Claims.Api.Claims;
using Claims.Api.Data;
using Claims.Api.Desk;
using Claims.Api.Errors;
using Claims.Api.Http;
using Claims.Api.Json;
using Claims.Api.OpenApi;
using Claims.Api.Seeding;
using FluentValidation;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Npgsql;

namespace Claims.Api.Hosting;

/// <summary>The cross-cutting wiring Program.cs calls: JSON, problems, validation, OpenAPI, health.</summary>
public static class ServiceSetup
{
    public static IServiceCollection AddClaimsApi(this IServiceCollection services, IConfiguration configuration)
    {
        // Columns are snake_case, rows are C# records.
        Dapper.DefaultTypeMap.MatchNamesWithUnderscores = true;

        services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.Converters.Add(new LowercaseEnumConverter());
            // An unknown property is a mistake to report, not to drop: 'status' or 'id' on a
            // create would otherwise be silently ignored.
            options.SerializerOptions.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow;
            // The web defaults read "2" as the number 2; the document says number, so a string is a mistake.
            options.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
            // With duplicates the last one would win silently, and a proxy or signature check that
            // reads the first would see another request than the one stored.
            options.SerializerOptions.AllowDuplicateProperties = false;
            options.SerializerOptions.TypeInfoResolver = (options.SerializerOptions.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver())
                .WithAddedModifier(CountedArrays.Apply);
        });

        services.AddOptions<PagingOptions>().Bind(configuration.GetSection("Paging"))
            .Validate(o => o.CursorKey is null or "" || (Convert.TryFromBase64String(o.CursorKey, new byte[o.CursorKey.Length], out var n) && n >= 32),
                "Paging:CursorKey must be base64 of at least 32 bytes.")
            .ValidateOnStart();
        services.AddSingleton<CursorProtector>();
        services.AddTrustedProxies(configuration);
        services.AddSingleton<SearchPlans>();
        services.AddOptions<SearchOptions>().Bind(configuration.GetSection("Search"))
            .Validate(o => o.RelevanceWindow is >= 1 and <= 100_000, "Search:RelevanceWindow must be between 1 and 100000.")
            .Validate(o => o.WalkPerMatch is >= 1 and <= 1000, "Search:WalkPerMatch must be between 1 and 1000.")
            .Validate(o => o.MinimumWalk is >= 1 and <= 1_000_000, "Search:MinimumWalk must be between 1 and 1000000.")
            .ValidateOnStart();
        services.AddSingleton<Idempotency>();
        services.AddHostedService<IdempotencyCleanup>();

        // On SIGTERM the server stops accepting, and what is in flight has this long to finish:
        // requests end by their 4 s deadline, and webhook runs record what they sent and release
        // the rest. Below the 10 s an orchestrator (docker compose, Kubernetes' default is 30 s)
        // waits before it kills.
        services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(8));

        // Ours first: the framework's writer would answer some Accept headers without a trace id.
        services.AddSingleton<IProblemDetailsWriter, ProblemWriter>();
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemMapping>();
        // Parameter and body binding failures throw, so that ProblemMapping can say what was wrong.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

        ValidatorOptions.Global.PropertyNameResolver = (_, member, _) => member is null ? null : JsonNamingPolicy.CamelCase.ConvertName(member.Name);
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) => member is null ? null : JsonNamingPolicy.CamelCase.ConvertName(member.Name);
        services.AddValidatorsFromAssemblyContaining<PageRequestValidator>(ServiceLifetime.Singleton, includeInternalTypes: true);

        services.AddOpenApiExamples(typeof(ServiceSetup).Assembly);
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Claims API",
                Version = "v1",
                Description = "Log claims, link them to the sources that made, supported, refuted or could not verify them, and move each claim through a verification status with a recorded reason. "
                    + "Every error is application/problem+json whose `type` is a page of the catalogue at GET /problems (listed there in the document too), and every answer carries an X-Request-Id that the problem's `requestId` and the server's log repeat.",
            });
            options.AddSecurityDefinition(ApiKeyHandler.SchemeName, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyStore.Header,
                Description = "An API key. `dotnet run` prints a development admin key at start-up.",
            });
            options.OperationFilter<OpenApiSecurity>();
            options.OperationFilter<OpenApiHeaders>();
            options.OperationFilter<MergePatchDocumentation>();
            options.OperationFilter<Imports.ImportDocumentation>();
            options.OperationFilter<Exports.ExportDocumentation>();
            // After the three above: it gives the responses they add their bodies and headers.
            options.OperationFilter<OpenApiAnswers>();
            options.SchemaFilter<OpenApiEnums>();
            options.ParameterFilter<OpenApiEnums>();
            options.SchemaFilter<OpenApiExamples>();
            options.SchemaFilter<OpenApiSchemas>();
            options.DocumentFilter<OpenApiDocumentFilter>();
            options.SupportNonNullableReferenceTypes();
            var xml = Path.Combine(AppContext.BaseDirectory, "Claims.Api.xml");
            if (File.Exists(xml))
            {
                options.IncludeXmlComments(xml);
            }
        });

        services.AddRequestIds();
        services.AddProblemPages();
        services.AddRequestDeadline();
        services.AddCrossOrigin(configuration);
        services.AddClaimsHealthChecks();
        return services;
    }

    /// <summary>Migrates and seeds as configured, before the app takes requests.</summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        if (options.MigrateOnStartup)
        {
            Database.Migrate(app.Configuration.GetConnectionString(Database.ConnectionStringName)!, app.Logger);
        }

        if (options.SeedWhenEmpty == true)
        {
            var counts = await SeedStory.LoadIfEmptyAsync(
                app.Services.GetRequiredService<NpgsqlDataSource>(),
                app.Services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions,
                app.Lifetime.ApplicationStopping);
            if (counts is not null)
            {
                app.Logger.LogInformation("Empty database: loaded the seed story ({Sources} sources, {Claims} claims, {Evidence} evidence items)",
                    counts.Sources, counts.Claims, counts.Evidence);
            }
        }
    }

    public static WebApplication UseClaimsApi(this WebApplication app)
    {
        // First: everything after it (the limits per address, the cookie's Secure flag) sees the
        // client, not the balancer. Only with proxies named: with none, the middleware would
        // believe the headers from anyone.
        if (app.Services.GetRequiredService<IOptions<NetworkOptions>>().Value.Entries.Any())
        {
            app.UseForwardedHeaders();
        }

        app.UseRequestIds();
        app.UseResponseHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseBodySizeLimit();

        if (app.Configuration.GetValue("Swagger:Enabled", true))
        {
            app.UseSwagger();
            app.UseSwaggerUI(options =>
            {
                options.DocumentTitle = "Claims API";
                options.SwaggerEndpoint("/swagger/v1/swagger.json", "Claims API v1");
            });
        }

        // The desk's page, like Swagger UI, is files that need no key and never wait on the database.
        app.UseDeskPage();

        // Inside the exception handler, which writes the 504 of an unconfirmed commit, and before
        // authentication, whose key look-ups wait on the database too. Swagger, above, never
        // waits on the database; the health endpoints have a bound of their own.
        app.UseRequestDeadline();
        app.MapClaimsHealth();
        app.MapProblemPages();

        app.UseCrossOrigin();

        // The rate limiter partitions by API key, so it runs after authentication.
        app.UseAuthentication();
        // Once authentication has said whether the desk's session cookie is what authenticated the request.
        app.UseDeskCsrfCheck();
        app.UseRateLimits();
        app.UseConsistencyTokens();
        app.UseAuthorization();
        return app;
    }
}
