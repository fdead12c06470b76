using System.Net;

namespace Rampart.Clusters;

/// <summary>The HTTP versions a cluster may speak to its destinations, and how each is asked for.</summary>
public static class HttpVersions
{
    /// <summary>The values <see cref="ClusterOptions.HttpVersion"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["1.1", "2"];

    /// <summary>Parses <c>"1.1"</c> or <c>"2"</c> (also <c>"2.0"</c>).</summary>
    public static bool TryParse(string? value, out Version version)
    {
        switch (value?.Trim())
        {
            case "1.1":
                version = HttpVersion.Version11;
                return true;
            case "2" or "2.0":
                version = HttpVersion.Version20;
                return true;
            default:
                version = HttpVersion.Version11;
                return false;
        }
    }

    /// <summary>The version <paramref name="value"/> names; HTTP/1.1 when it names none (validation reports that).</summary>
    internal static Version Parse(string? value) => TryParse(value, out var version) ? version : HttpVersion.Version11;

    /// <summary>
    /// How a request of <paramref name="version"/> to <paramref name="address"/> is sent: HTTP/2 to an <c>http://</c>
    /// address is HTTP/2 with prior knowledge (h2c), exactly, since plain HTTP has no negotiation; to an <c>https://</c>
    /// address it is offered in TLS (ALPN) and falls back to HTTP/1.1 when the destination does not take it.
    /// </summary>
    public static HttpVersionPolicy PolicyFor(Version version, Uri address)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(address);
        return version.Major >= 2 && address.Scheme == Uri.UriSchemeHttp
            ? HttpVersionPolicy.RequestVersionExact
            : HttpVersionPolicy.RequestVersionOrLower;
    }
}
