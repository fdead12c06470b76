using System.Net;
using System.Net.Sockets;
using Rampart.Clusters;
using Rampart.Configuration;
using Rampart.Proxy.Configuration;

namespace Rampart.Proxy.Discovery;

/// <summary>
/// The options the proxy runs with: the configuration's, where each discovered destination is replaced by one
/// destination per endpoint its name resolved to (id <c>name/address</c>, or <c>name/address:port</c> from SRV; the
/// address's scheme, port and path kept). Everything else, and every cluster without discovery, stays as configured.
/// </summary>
internal static class DiscoveryExpansion
{
    /// <summary>The names the configuration's destinations are discovered from.</summary>
    public static IEnumerable<DiscoveredName> Names(RampartOptions declared) =>
        declared.Clusters.Values.SelectMany(c => c.Destinations.Values.Select(d => NameOf(c, d))).OfType<DiscoveredName>().Distinct();

    /// <summary>The configuration with its discovered destinations expanded; <paramref name="declared"/> itself when it discovers nothing.</summary>
    public static RampartOptions Expand(RampartOptions declared, IReadOnlyDictionary<DiscoveredName, NameState> names)
    {
        var discovering = declared.Clusters.Where(c => c.Value.Destinations.Values.Any(d => NameOf(c.Value, d) is not null)).Select(c => c.Key).ToList();
        if (discovering.Count == 0)
        {
            return declared;
        }

        var expanded = (RampartOptions)OptionsTree.Copy(declared);
        foreach (var clusterId in discovering)
        {
            var configured = declared.Clusters[clusterId];
            var destinations = expanded.Clusters[clusterId].Destinations;
            destinations.Clear();
            foreach (var (id, destination) in configured.Destinations)
            {
                if (NameOf(configured, destination) is not { } name)
                {
                    destinations[id] = (DestinationOptions)OptionsTree.Copy(destination);
                    continue;
                }

                var address = new Uri(destination.Address);
                foreach (var endpoint in names.GetValueOrDefault(name)?.Endpoints ?? [])
                {
                    destinations[$"{id}/{Label(endpoint)}"] = new DestinationOptions { Address = At(address, endpoint) };
                }
            }
        }

        OptionsTree.Freeze(expanded); // the configuration's validated snapshot, expanded: not validated again (a cluster may be empty until its names resolve)
        return expanded;
    }

    /// <summary>The name <paramref name="destination"/> is discovered from; null when it is not discovered (no discovery, or an IP address).</summary>
    public static DiscoveredName? NameOf(ClusterOptions cluster, DestinationOptions destination)
    {
        var mode = DiscoveryModes.Discovered(cluster, destination, out var address);
        return mode == DiscoveryMode.None ? null : DiscoveredName.Of(mode, address!);
    }

    // SRV endpoints carry their port; A and AAAA ones take the address's.
    private static string Label(IPEndPoint endpoint) => endpoint.Port == 0 ? endpoint.Address.ToString() : endpoint.ToString();

    private static string At(Uri address, IPEndPoint endpoint) => new UriBuilder(address)
    {
        Host = endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]" : endpoint.Address.ToString(),
        Port = endpoint.Port == 0 ? address.Port : endpoint.Port,
    }.Uri.ToString();
}
