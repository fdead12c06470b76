using System.Net;
using System.Security.Authentication;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Proxy.Server;
using Rampart.Proxy.Tls;

namespace Rampart.Proxy.Configuration;

/// <summary>The proxy's own server, set up from its options: one place for the executable and <see cref="RampartProxyServer"/>.</summary>
internal static class KestrelSetup
{
    /// <summary>Applies the listeners (or <paramref name="listen"/> instead), <c>Rampart:Limits</c> and <c>Rampart:Server</c> to Kestrel.</summary>
    public static void Apply(KestrelServerOptions kestrel, RampartOptions options, string? listen)
    {
        IEnumerable<ListenAddress> listeners = listen is null
            ? ListenAddresses.All(options)
            : [new ListenAddress("listen", listen, null, options.Tls, $"{RampartOptions.SectionName}:Tls")];
        foreach (var (_, url, protocols, tls, tlsKey) in listeners)
        {
            var uri = new Uri(url);
            var speaks = ListenAddresses.ProtocolsOrDefault(uri, protocols);
            Action<ListenOptions> configure = endpoint =>
            {
                endpoint.Protocols = (HttpProtocols)speaks;
                if (uri.Scheme == Uri.UriSchemeHttps && tls.IsConfigured)
                {
                    UseCertificates(endpoint, tls, tlsKey);
                }
                else if (uri.Scheme == Uri.UriSchemeHttps)
                {
                    endpoint.UseHttps(); // the ASP.NET Core development certificate (validation made sure there is one)
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
        kestrel.Limits.KeepAliveTimeout = limits.KeepAliveTimeout;
        kestrel.Limits.MinRequestBodyDataRate = limits.MinRequestBodyDataRate == 0
            ? null
            : new MinDataRate(limits.MinRequestBodyDataRate, limits.MinRequestBodyDataRateGracePeriod);
    }

    // The listener's certificates, chosen per handshake by SNI and reloaded from their files; ALPN offers what it speaks.
    private static void UseCertificates(ListenOptions endpoint, TlsOptions tls, string key)
    {
        var services = endpoint.ApplicationServices;
        ListenerCertificates? certificates = null;
        endpoint.UseHttps(new HttpsConnectionAdapterOptions
        {
            // Tls12: the system's choice (TLS 1.2 and 1.3 here; older versions are off in current OpenSSL and Windows).
#pragma warning disable CA5397 // the analyzer knows no version newer than 1.2; TLS 1.3 alone is what the operator asked for
            SslProtocols = tls.MinimumVersion == TlsVersion.Tls13 ? SslProtocols.Tls13 : SslProtocols.None,
#pragma warning restore CA5397
            ServerCertificateSelector = (_, name) => (certificates ??= services.GetRequiredService<TlsCertificates>().For(tls, key)).Select(name),
        });
    }
}
