using System.Collections.Concurrent;
using Rampart.Clusters;
using Rampart.Diagnostics;
using Rampart.Health;

namespace Rampart.Http;

/// <summary>One <see cref="ClusterState"/> per named client, for the application's lifetime (handlers come and go; the state stays).</summary>
/// <param name="prober">Probes the clients' destinations.</param>
/// <param name="timeProvider">The clock.</param>
/// <param name="catalog">Where the clients' clusters are listed (status, gauges).</param>
/// <param name="diagnostics">Logs and counts the clients' destination transitions; none when <see langword="null"/>.</param>
public sealed class RampartClientRegistry(ActiveHealthProber prober, TimeProvider timeProvider, ClusterCatalog catalog, ClusterDiagnostics? diagnostics = null)
{
    private readonly ConcurrentDictionary<string, Lazy<ClusterState>> _clusters = new(StringComparer.Ordinal);

    /// <summary>The clusters of every Rampart client created so far.</summary>
    public IReadOnlyList<ClusterState> Clusters => [.. _clusters.Values.Where(l => l.IsValueCreated).Select(l => l.Value)];

    /// <summary>The client's cluster, created (and its destinations handed to the prober) on first use.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message names every problem.</exception>
    public ClusterState GetOrCreate(string name, RampartClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        return _clusters.GetOrAdd(name, n => new Lazy<ClusterState>(() =>
        {
            var cluster = new ClusterState(n, options.Cluster, timeProvider, diagnostics);
            catalog.Add(cluster); // shown by the admin status and metrics when a Rampart proxy runs in the same process
            foreach (var destination in cluster.Destinations)
            {
                prober.Track(destination);
            }

            return cluster;
        })).Value;
    }
}
