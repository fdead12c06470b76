using Rampart.Configuration;

namespace Rampart.Tls;

/// <summary>
/// How requests and probes reach <c>https://</c> destinations: whom to trust (the system's store by default, or a CA
/// bundle), which client certificate to present (mTLS), and which name to ask for (SNI) and check the certificate against.
/// </summary>
public sealed class DestinationTlsOptions : FreezableOptions
{
    /// <summary>A PEM bundle of the CA certificates the destinations' certificates must chain to, instead of the system's store.</summary>
    public string CaPath { get; set => field = Settable(value); } = "";

    /// <summary>The client certificate presented to destinations that ask for one.</summary>
    public CertificateOptions ClientCertificate { get; set => field = Settable(value); } = new();

    /// <summary>
    /// The name sent in SNI and that the destination's certificate must carry. Default: the request's <c>Host</c> (the
    /// client's, passed on), or the destination's own host for probes.
    /// </summary>
    public string ServerName { get; set => field = Settable(value); } = "";

    /// <summary>Whether anything differs from the defaults.</summary>
    public bool IsConfigured => CaPath.Length > 0 || ClientCertificate.Path.Length > 0 || ServerName.Length > 0;
}
