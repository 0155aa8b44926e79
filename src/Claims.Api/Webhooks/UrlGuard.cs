using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Claims.Api.Webhooks;

/// <summary>Why a webhook URL may not be called.</summary>
public sealed class UrlRefusedException(string message) : Exception(message);

/// <summary>
/// Keeps webhooks from reaching into the network the API runs in (SSRF): a receiver must be https
/// and every address its host resolves to must be public. Checked at registration, and again at
/// each connection, which then goes to the very address that was checked, so that a DNS answer
/// that changes between the check and the connection (rebinding) cannot slip through.
/// </summary>
public sealed class UrlGuard(IOptions<WebhooksOptions> options)
{
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    private bool AllowPrivate => options.Value.AllowPrivateNetworks;

    /// <summary>Throws <see cref="UrlRefusedException"/> when the URL may not receive webhooks.</summary>
    public async Task CheckAsync(Uri url, CancellationToken ct)
    {
        CheckScheme(url);
        await ResolveAsync(url.IdnHost, ct);
    }

    public void CheckScheme(Uri url)
    {
        if (url.Scheme != Uri.UriSchemeHttps && !(AllowPrivate && url.Scheme == Uri.UriSchemeHttp))
        {
            throw new UrlRefusedException($"The URL must be https; {url.Scheme} is refused.");
        }

        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            throw new UrlRefusedException("The URL must not carry a user name or password; authenticate the sender by its webhook-signature.");
        }
    }

    /// <summary>The host's addresses, every one of them allowed; throws <see cref="UrlRefusedException"/> otherwise.</summary>
    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bounded.CancelAfter(ResolveTimeout);
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, bounded.Token);
            }
            catch (SocketException e)
            {
                throw new UrlRefusedException($"The host {host} does not resolve ({e.SocketErrorCode}).");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new UrlRefusedException($"The host {host} did not resolve within {ResolveTimeout.TotalSeconds:0} s.");
            }
        }

        if (addresses.Length == 0)
        {
            throw new UrlRefusedException($"The host {host} resolves to no address.");
        }

        if (!AllowPrivate && addresses.FirstOrDefault(a => !IsPublic(a)) is { } refused)
        {
            throw new UrlRefusedException($"The host {host} resolves to {refused}, which is not a public address (loopback, private, link-local, shared, multicast or unspecified).");
        }

        return addresses;
    }

    /// <summary>
    /// Connects to the first reachable address of the host, each checked just before: the
    /// handler's <see cref="SocketsHttpHandler.ConnectCallback"/>, so that no connection of a
    /// webhook goes anywhere unchecked.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var addresses = await ResolveAsync(context.DnsEndPoint.Host, ct);
        Exception? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw new HttpRequestException($"Could not connect to {context.DnsEndPoint.Host}:{context.DnsEndPoint.Port}: {last?.Message}", last);
    }

    /// <summary>False for every address a request from inside our network must not reach.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 0 // this network
                || b[0] == 10
                || (b[0] == 100 && b[1] >= 64 && b[1] <= 127) // carrier-grade NAT
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] == 0) // IETF protocol assignments
                || (b[0] == 198 && (b[1] == 18 || b[1] == 19)) // benchmarking
                || b[0] >= 224); // multicast and reserved
        }

        var v6 = address.GetAddressBytes();
        return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
            || (v6[0] & 0xfe) == 0xfc // unique local fc00::/7
            || address.IsIPv6Teredo);
    }
}
