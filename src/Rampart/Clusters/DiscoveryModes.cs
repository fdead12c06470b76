namespace Rampart.Clusters;

/// <summary>How a destination's host name becomes destinations (<see cref="ClusterOptions.Discovery"/>).</summary>
internal enum DiscoveryMode
{
    /// <summary>The address is one destination.</summary>
    None,

    /// <summary>Every A and AAAA record of the host is a destination, on the address's port.</summary>
    Dns,

    /// <summary>The host is an SRV name: every target's address and port is a destination.</summary>
    DnsSrv,
}

/// <summary>The names of <see cref="DiscoveryMode"/> in configuration, and which one applies to a destination.</summary>
internal static class DiscoveryModes
{
    public const string Rule = "must be one of None, Dns, DnsSrv";

    public static bool IsName(string value) => Enum.TryParse<DiscoveryMode>(value, ignoreCase: true, out var mode) && Enum.IsDefined(mode) && !int.TryParse(value, out _);

    /// <summary>The mode of <paramref name="destination"/>: its own, else its cluster's; <see cref="DiscoveryMode.None"/> for an invalid name.</summary>
    public static DiscoveryMode Of(ClusterOptions cluster, DestinationOptions destination)
    {
        var name = destination.Discovery.Length > 0 ? destination.Discovery : cluster.Discovery;
        return IsName(name) ? Enum.Parse<DiscoveryMode>(name, ignoreCase: true) : DiscoveryMode.None;
    }

    /// <summary>
    /// How <paramref name="destination"/> is discovered, with its parsed address: <see cref="DiscoveryMode.None"/> without
    /// discovery, for an address that does not parse, and for an IP address (it is itself).
    /// </summary>
    public static DiscoveryMode Discovered(ClusterOptions cluster, DestinationOptions destination, out Uri? address)
    {
        var mode = Of(cluster, destination);
        address = Uri.TryCreate(destination.Address, UriKind.Absolute, out var uri) ? uri : null;
        return uri?.HostNameType is UriHostNameType.Dns or UriHostNameType.Basic ? mode : DiscoveryMode.None; // Basic: an SRV name's underscores
    }
}
