using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Rampart.Tls;

/// <summary>Loads a certificate named by <see cref="CertificateOptions"/>: PEM (certificate, chain and key) or PFX; every problem names its key.</summary>
internal static class CertificateFiles
{
    /// <summary>The certificate with its private key, or null with the problem in <paramref name="error"/>.</summary>
    public static X509Certificate2? TryLoad(CertificateOptions options, string key, out string? error)
    {
        error = null;
        if (options.Path.Length == 0)
        {
            error = $"{key}:Path is required";
            return null;
        }

        if (!File.Exists(options.Path))
        {
            error = $"{key}:Path '{options.Path}' does not exist";
            return null;
        }

        var pfx = options.KeyPath.Length == 0;
        if (!pfx && !File.Exists(options.KeyPath))
        {
            error = $"{key}:KeyPath '{options.KeyPath}' does not exist";
            return null;
        }

        try
        {
            var certificate = pfx
                ? X509CertificateLoader.LoadPkcs12FromFile(options.Path, options.Password.Length == 0 ? null : options.Password)
                : options.Password.Length == 0
                    ? X509Certificate2.CreateFromPemFile(options.Path, options.KeyPath)
                    : X509Certificate2.CreateFromEncryptedPemFile(options.Path, options.Password, options.KeyPath);
            if (!certificate.HasPrivateKey)
            {
                certificate.Dispose();
                error = $"{key}:Path '{options.Path}' has no private key{(pfx ? " (a PEM certificate needs KeyPath)" : "")}";
                return null;
            }

            return certificate;
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            error = $"{key}:Path '{options.Path}' could not be loaded{(pfx ? " as a PFX file (a PEM certificate needs KeyPath)" : " with its KeyPath")}: {ex.Message}";
            return null;
        }
    }
}
