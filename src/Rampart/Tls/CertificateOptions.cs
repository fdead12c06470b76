using Rampart.Configuration;

namespace Rampart.Tls;

/// <summary>A certificate from files: PEM (<see cref="Path"/> the certificate and its chain, <see cref="KeyPath"/> the key) or PFX (<see cref="Path"/> alone).</summary>
public sealed class CertificateOptions : FreezableOptions
{
    /// <summary>The certificate: a PEM file (with its chain after it), or a PFX file (<c>.pfx</c>, <c>.p12</c>) with its key.</summary>
    public string Path { get; set => field = Settable(value); } = "";

    /// <summary>The PEM private key for a PEM <see cref="Path"/>.</summary>
    public string KeyPath { get; set => field = Settable(value); } = "";

    /// <summary>The PFX file's password, or an encrypted PEM key's.</summary>
    public string Password { get; set => field = Settable(value); } = "";
}
