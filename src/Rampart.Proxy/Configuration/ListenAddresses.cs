using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Rampart.Proxy.Configuration;

/// <summary>
/// What a listen URL may be, checked the same way for every listener: whatever passes binds (or fails for a reason
/// only the bind can know, such as a port in use), and nothing that cannot bind passes.
/// </summary>
internal static class ListenAddresses
{
    /// <summary>Every listener of the proxy: <c>Listen</c>'s URLs, then <c>Listeners</c>, each with its key, protocols and certificates.</summary>
    public static IEnumerable<ListenAddress> All(RampartOptions options)
    {
        const string root = RampartOptions.SectionName;
        for (var i = 0; i < options.Listen.Count; i++)
        {
            yield return new ListenAddress($"{root}:Listen:{i}", options.Listen[i], null, options.Tls, $"{root}:Tls");
        }

        for (var i = 0; i < options.Listeners.Count; i++)
        {
            var listener = options.Listeners[i];
            var own = listener.Tls.IsConfigured;
            yield return new ListenAddress($"{root}:Listeners:{i}:Url", listener.Url, listener.Protocols, own ? listener.Tls : options.Tls, own ? $"{root}:Listeners:{i}:Tls" : $"{root}:Tls");
        }
    }

    /// <summary>Checks <paramref name="value"/> as a listen URL; the parsed URL when it is one.</summary>
    public static Uri? Check(string? value, string key, List<string> errors, bool allowHttps = true, bool hasCertificate = false)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{key} is required");
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{key} must be an absolute http:// or https:// URL (was {value})");
            return null;
        }

        var problems = errors.Count;
        if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
        {
            errors.Add($"{key} must be only a scheme, an address and a port, such as http://127.0.0.1:8080 (was {value})");
        }

        if (uri.HostNameType is not (UriHostNameType.IPv4 or UriHostNameType.IPv6) && !uri.IsLoopback)
        {
            errors.Add($"{key} must name an IP address or localhost (was {value}): Rampart listens on addresses, not names; 0.0.0.0 is every IPv4 interface");
        }

        else if (uri.Port == 0 && uri.HostNameType == UriHostNameType.Dns)
        {
            errors.Add($"{key} cannot take port 0 with localhost (was {value}): name an address, such as http://127.0.0.1:0");
        }

        if (uri.Scheme == Uri.UriSchemeHttps && !allowHttps)
        {
            errors.Add($"{key} must be http:// (was {value}): this listener does not speak TLS");
        }
        else if (uri.Scheme == Uri.UriSchemeHttps && !hasCertificate && !DevelopmentCertificateInstalled())
        {
            errors.Add($"{key} is https:// but there is no certificate to serve it with (was {value}): name one in {RampartOptions.SectionName}:Tls:Certificate (PEM Path and KeyPath, or a PFX Path), or in the listener's Tls");
        }

        return errors.Count == problems ? uri : null;
    }

    /// <summary>Whether <paramref name="uri"/> is on this machine only.</summary>
    public static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>The protocols a listener speaks when none are set: HTTP/1.1 over http://, both over https:// (ALPN).</summary>
    public static ListenerProtocols ProtocolsOrDefault(Uri uri, ListenerProtocols? protocols) =>
        protocols ?? (uri.Scheme == Uri.UriSchemeHttps ? ListenerProtocols.Http1AndHttp2 : ListenerProtocols.Http1);

    // Kestrel serves https:// without a configured certificate only with the ASP.NET Core development certificate.
    private static bool DevelopmentCertificateInstalled()
    {
        const string AspNetHttpsOid = "1.3.6.1.4.1.311.84.1.1";
        using var store = new X509Store(StoreName.My, StoreLocation.CurrentUser);
        try
        {
            store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
        }
        catch (CryptographicException)
        {
            return false;
        }

        var now = TimeProvider.System.GetLocalNow().DateTime;
        var found = false;
        foreach (var certificate in store.Certificates)
        {
            found |= certificate.Extensions[AspNetHttpsOid] is not null && certificate.HasPrivateKey && certificate.NotBefore <= now && now <= certificate.NotAfter;
            certificate.Dispose();
        }

        return found;
    }
}

/// <summary>One listener: its key, URL, protocols, and the certificates that serve it over https:// (with their key).</summary>
internal sealed record ListenAddress(string Key, string Url, ListenerProtocols? Protocols, TlsOptions Tls, string TlsKey);
