using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Claims.Api.Http;

/// <summary>Network:* settings.</summary>
public sealed class NetworkOptions
{
    public const string Section = "Network";

    /// <summary>
    /// The balancers whose X-Forwarded-For and X-Forwarded-Proto are believed, comma-separated
    /// addresses or CIDR ranges (172.16.0.0/12). Empty (the default): nobody's, so a client
    /// cannot pass itself off as another address.
    /// </summary>
    public string? TrustedProxies { get; set; }

    public IEnumerable<string> Entries =>
        (TrustedProxies ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static bool IsValid(string entry) => entry.Contains('/') ? System.Net.IPNetwork.TryParse(entry, out _) : IPAddress.TryParse(entry, out _);
}

/// <summary>
/// Behind a balancer every request comes from the balancer's address, so the limits kept per
/// client address (failed authentications) would lump all clients together, and the desk's
/// cookie would not know the client used https. From a trusted balancer the client's address and
/// scheme are taken from X-Forwarded-For and X-Forwarded-Proto instead.
/// </summary>
public static class TrustedProxies
{
    public static IServiceCollection AddTrustedProxies(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<NetworkOptions>().Bind(configuration.GetSection(NetworkOptions.Section))
            .Validate(o => o.Entries.All(NetworkOptions.IsValid), "Network:TrustedProxies must be IP addresses or CIDR ranges, separated by commas.")
            .ValidateOnStart();
        services.AddOptions<ForwardedHeadersOptions>().Configure<Microsoft.Extensions.Options.IOptions<NetworkOptions>>((forwarded, network) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // The framework trusts loopback by default; only what the setting names is trusted here
            // (and with nothing named, the middleware is not used at all: empty lists trust anyone).
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var entry in network.Value.Entries.Where(NetworkOptions.IsValid))
            {
                if (entry.Contains('/'))
                {
                    forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(entry));
                }
                else
                {
                    forwarded.KnownProxies.Add(IPAddress.Parse(entry));
                }
            }
        });
        return services;
    }
}
