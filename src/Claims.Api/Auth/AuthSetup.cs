using Claims.Api.Data;
using Claims.Api.Http;
using Claims.Api.Json;
using Microsoft.AspNetCore.Authorization;
using Npgsql;

namespace Claims.Api.Auth;

public static class AuthSetup
{
    public static IServiceCollection AddApiKeys(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection("Auth"))
            .Validate(o => o.FailedAuthenticationsPerMinute >= 0, "Auth:FailedAuthenticationsPerMinute must be 0 (off) or more.")
            .ValidateOnStart();
        services.AddSingleton<KeyCache>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<FailedAuthentications>();
        services.AddHostedService<KeyRevocationListener>();
        services.AddAuthentication(ApiKeyHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyHandler>(ApiKeyHandler.SchemeName, null);
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, AccessProblems>();
        return services.AddRoles();
    }

    /// <summary>
    /// With the private development database, a development admin key is kept beside it and
    /// printed at start-up, so that Swagger UI's Authorize button works from the first run.
    /// </summary>
    public static void UseDevelopmentAdminKey(this WebApplicationBuilder builder, string folder)
    {
        if (!string.IsNullOrEmpty(builder.Configuration["Auth:BootstrapAdminKey"]))
        {
            return;
        }

        var file = Path.Combine(folder, "dev-admin-key");
        if (!File.Exists(file))
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(file, ApiKeyStore.NewSecret());
        }

        var key = File.ReadAllText(file).Trim();
        builder.Configuration["Auth:BootstrapAdminKey"] = key;
        Console.WriteLine($"Development admin key (sign in to the desk with it, paste it into Swagger UI's Authorize, or send it as {ApiKeyStore.Header}): {key}");
    }

    /// <summary>The <c>keys create --name NAME --role ROLE</c> verb: mint a key and print its secret.</summary>
    public static async Task<int> RunKeysCommandAsync(WebApplication app, string[] args)
    {
        string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        var name = Option("--name");
        if (args.FirstOrDefault() != "create" || string.IsNullOrWhiteSpace(name) || !Enum.TryParse<Role>(Option("--role"), ignoreCase: true, out var role)
            || !Enum.IsDefined(role))
        {
            Console.Error.WriteLine("Usage: keys create --name NAME --role reader|reporter|editor|admin");
            return 2;
        }

        Database.Migrate(app.Configuration.GetConnectionString(Database.ConnectionStringName)!, app.Logger);
        var created = await KeysApi.CreateAsync(app.Services.GetRequiredService<NpgsqlDataSource>(), name.Trim(), role, CancellationToken.None);
        Console.WriteLine($"Created {role.ToString().ToLowerInvariant()} key '{created.Name}' ({created.Id}). Its secret, shown only now:");
        Console.WriteLine(created.Key);
        return 0;
    }
}
