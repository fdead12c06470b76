using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Proxy.Server;

namespace Rampart.Proxy.Configuration;

/// <summary>The proxy's own server, set up from its options: one place for the executable and <see cref="RampartProxyServer"/>.</summary>
internal static class KestrelSetup
{
    /// <summary>Applies the listeners (or <paramref name="listen"/> instead), <c>Rampart:Limits</c> and <c>Rampart:Server</c> to Kestrel.</summary>
    public static void Apply(KestrelServerOptions kestrel, RampartOptions options, string? listen)
    {
        IEnumerable<(string Url, ListenerProtocols? Protocols)> listeners = listen is null
            ? ListenAddresses.All(options).Select(l => (l.Url, l.Protocols))
            : [(listen, null)];
        foreach (var (url, protocols) in listeners)
        {
            var uri = new Uri(url);
            var speaks = ListenAddresses.ProtocolsOrDefault(uri, protocols);
            Action<ListenOptions> configure = endpoint =>
            {
                endpoint.Protocols = (HttpProtocols)speaks;
                if (uri.Scheme == Uri.UriSchemeHttps)
                {
                    endpoint.UseHttps();
                }
                else if (options.Server.FastServer && speaks != ListenerProtocols.Http2)
                {
                    // Rampart's own HTTP/1.1 server in front of Kestrel's: it serves what it takes, Kestrel the rest.
                    endpoint.Use(kestrelHttp => endpoint.ApplicationServices.GetRequiredService<FastServer>().Use(kestrelHttp));
                }
            };
            if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address))
            {
                kestrel.Listen(address, uri.Port, configure);
            }
            else
            {
                kestrel.ListenLocalhost(uri.Port, configure); // validation lets no other name through
            }
        }


        kestrel.AddServerHeader = false; // the destination's own Server header passes through
        var limits = options.Limits;
        kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodySize == 0 ? null : limits.MaxRequestBodySize;
        kestrel.Limits.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalSize;
        kestrel.Limits.MaxRequestHeaderCount = limits.MaxRequestHeaderCount;
        kestrel.Limits.MaxRequestLineSize = limits.MaxRequestLineSize;
        kestrel.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
        kestrel.Limits.MinRequestBodyDataRate = limits.MinRequestBodyDataRate == 0
            ? null
            : new MinDataRate(limits.MinRequestBodyDataRate, limits.MinRequestBodyDataRateGracePeriod);
    }
}
