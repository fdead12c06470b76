using Rampart.Clusters;

namespace Rampart.Destinations;

/// <summary>Where and how requests and probes reach a destination: its address and the HTTP version to speak.</summary>
public sealed class DestinationEndpoint
{
    /// <summary>Creates the endpoint of <paramref name="address"/>, spoken to in <paramref name="httpVersion"/> (1.1 when <see langword="null"/>).</summary>
    /// <param name="address">The destination's base address.</param>
    /// <param name="httpVersion">The HTTP version requests and HTTP probes use (the cluster's <c>HttpVersion</c>).</param>
    public DestinationEndpoint(Uri address, Version? httpVersion = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        Address = address;
        AddressPrefix = address.GetLeftPart(UriPartial.Authority) + address.AbsolutePath.TrimEnd('/');
        HttpVersion = httpVersion ?? System.Net.HttpVersion.Version11;
        HttpVersionPolicy = HttpVersions.PolicyFor(HttpVersion, address);
    }

    /// <summary>The destination's base address.</summary>
    public Uri Address { get; }

    /// <summary>The address without a trailing slash, ready to have a request path appended.</summary>
    public string AddressPrefix { get; }

    /// <summary>The HTTP version requests and HTTP probes use towards the destination. Default 1.1.</summary>
    public Version HttpVersion { get; }

    /// <summary>How requests and probes reach it over TLS, when the cluster says more than the defaults.</summary>
    internal Rampart.Tls.DestinationTlsOptions? Tls { get; init; }

    /// <summary>How <see cref="HttpVersion"/> is asked for: exactly for HTTP/2 to an <c>http://</c> address (prior knowledge), else that version or lower.</summary>
    public HttpVersionPolicy HttpVersionPolicy { get; }
}
