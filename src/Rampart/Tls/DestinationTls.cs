using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Rampart.Tls;

/// <summary>
/// Applies <see cref="DestinationTlsOptions"/> to a <see cref="SocketsHttpHandler"/>: one place for the proxy's
/// forwarding and every prober. A CA bundle replaces the system's trust; a client certificate is offered; a
/// <c>ServerName</c> takes the handshake over (the handler would send the request's <c>Host</c> in SNI otherwise).
/// </summary>
internal static class DestinationTls
{
    private static readonly ConditionalWeakTable<DestinationTlsOptions, HttpMessageInvoker> ProbeClients = [];

    /// <summary>Sets <paramref name="handler"/> up for <paramref name="tls"/> (nothing when it is the defaults).</summary>
    /// <exception cref="InvalidOperationException">A file does not load (validation checked them; they changed since).</exception>
    public static void Apply(SocketsHttpHandler handler, DestinationTlsOptions tls, string key)
    {
        if (!tls.IsConfigured)
        {
            return;
        }

        var trust = tls.CaPath.Length > 0 ? LoadBundle(tls.CaPath, key + ":CaPath", out var error) ?? throw new InvalidOperationException(error) : null;
        X509Certificate2? client = null;
        if (tls.ClientCertificate.Path.Length > 0)
        {
            client = CertificateFiles.TryLoad(tls.ClientCertificate, key + ":ClientCertificate", out var problem) ?? throw new InvalidOperationException(problem);
        }

        handler.SslOptions = Options(trust, client, targetHost: null);
        if (tls.ServerName.Length > 0)
        {
            handler.ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
                    var stream = new NetworkStream(socket, ownsSocket: true);
                    if (context.InitialRequestMessage.RequestUri?.Scheme != Uri.UriSchemeHttps)
                    {
                        return stream;
                    }

                    // Our own handshake, so that SNI (and the name checked) is ServerName; the handler speaks over it.
                    var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                    var options = Options(trust, client, tls.ServerName);
                    options.ApplicationProtocols = context.InitialRequestMessage.Version.Major >= 2
                        ? [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11]
                        : [SslApplicationProtocol.Http11];
                    await ssl.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
                    return ssl;
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }
    }

    /// <summary>The client probes of destinations with <paramref name="tls"/> go through (one per options, made once).</summary>
    public static HttpMessageInvoker ProbeClient(DestinationTlsOptions tls) => ProbeClients.GetValue(tls, static options =>
    {
        var handler = new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) };
        Apply(handler, options, "Tls");
        return new HttpMessageInvoker(handler);
    });

    /// <summary>The CA certificates of a PEM bundle, or null with the problem (naming <paramref name="key"/>).</summary>
    public static X509Certificate2Collection? LoadBundle(string path, string key, out string? error)
    {
        error = null;
        if (!File.Exists(path))
        {
            error = $"{key} '{path}' does not exist";
            return null;
        }

        try
        {
            var bundle = new X509Certificate2Collection();
            bundle.ImportFromPemFile(path);
            if (bundle.Count == 0)
            {
                error = $"{key} '{path}' holds no PEM certificate";
                return null;
            }

            return bundle;
        }
        catch (CryptographicException ex)
        {
            error = $"{key} '{path}' could not be loaded: {ex.Message}";
            return null;
        }
    }

    private static SslClientAuthenticationOptions Options(X509Certificate2Collection? trust, X509Certificate2? client, string? targetHost)
    {
        var options = new SslClientAuthenticationOptions { TargetHost = targetHost };
        if (client is not null)
        {
            options.ClientCertificates = [client];
        }

        if (trust is not null)
        {
            options.RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusted(certificate, errors, trust);
        }

        return options;
    }

    // The chain must end at one of the bundle's CAs; the name must match (checked by the handshake against SNI).
    private static bool Trusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection trust)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trust);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var shown = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(shown);
    }
}
