using System.Security.Claims;
using Claims.Api.Http;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Claims.Api.Auth;

/// <summary>What a key may do. Each role includes the ones before it.</summary>
public enum Role
{
    /// <summary>Every GET, and the batch status look-up.</summary>
    Reader,
    /// <summary>Create and edit claims, sources and evidence.</summary>
    Reporter,
    /// <summary>Status changes and deletes.</summary>
    Editor,
    /// <summary>Key management.</summary>
    Admin,
}

public sealed class AuthOptions
{
    /// <summary>A secret accepted as an admin key, so that a fresh deployment can mint the others.</summary>
    public string? BootstrapAdminKey { get; set; }

    /// <summary>Let callers without a key read (GETs and the batch status look-up).</summary>
    public bool AnonymousReads { get; set; }

    /// <summary>Failed authentications per minute from one address before its keys are refused unchecked (429); 0 turns the limit off.</summary>
    public int FailedAuthenticationsPerMinute { get; set; } = 30;
}

/// <summary>The caller's role must be at least <see cref="Minimum"/>.</summary>
public sealed class RoleRequirement(Role minimum) : IAuthorizationRequirement
{
    public Role Minimum { get; } = minimum;
}

public sealed class RoleRequirementHandler(IOptionsMonitor<AuthOptions> options) : AuthorizationHandler<RoleRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RoleRequirement requirement)
    {
        var role = Access.RoleOf(context.User);
        // Anonymous reads are for callers that send no key: a key that is unknown or revoked, or a
        // session that ended, is still refused, so that its holder finds out.
        var sentKey = context.Resource is HttpContext http && Caller.SentCredentials(http.Request);
        if (role >= requirement.Minimum
            || (role is null && !sentKey && requirement.Minimum == Role.Reader && options.CurrentValue.AnonymousReads))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

public static class Access
{
    /// <summary>The caller's role, from the principal the API key handler made; null without a valid key.</summary>
    public static Role? RoleOf(ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true && Enum.TryParse<Role>(user.FindFirstValue(ClaimTypes.Role), ignoreCase: true, out var role) ? role : null;

    public static string Policy(Role role) => role.ToString().ToLowerInvariant();

    /// <summary>Lets only callers with at least <paramref name="role"/> reach the endpoint.</summary>
    public static TBuilder Allow<TBuilder>(this TBuilder builder, Role role) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(Policy(role));

    public static IServiceCollection AddRoles(this IServiceCollection services)
    {
        services.AddSingleton<IAuthorizationHandler, RoleRequirementHandler>();
        var authorization = services.AddAuthorizationBuilder();
        foreach (var role in Enum.GetValues<Role>())
        {
            authorization.AddPolicy(Policy(role), policy => policy.AddRequirements(new RoleRequirement(role)));
        }

        return services;
    }
}
