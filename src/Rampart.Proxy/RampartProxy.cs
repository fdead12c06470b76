using Microsoft.Extensions.Logging;
using Rampart.Clusters;
using Rampart.Diagnostics;
using Rampart.Health;
using Rampart.Proxy.Configuration;
using Rampart.Proxy.Diagnostics;
using Rampart.Proxy.Forwarding;
using Yarp.ReverseProxy.Forwarder;

namespace Rampart.Proxy;

/// <summary>The running proxy: its clusters, their destinations' states, and their forwarders.</summary>
public sealed class RampartProxy : IDisposable
{
    private readonly Dictionary<string, ClusterForwarder> _forwarders = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Builds every cluster from validated options and hands their destinations to the prober.</summary>
    /// <exception cref="RampartConfigurationException">The options are invalid.</exception>
    /// <param name="options">Validated options.</param>
    /// <param name="forwarder">YARP's forwarder.</param>
    /// <param name="prober">The prober that will probe every destination.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="loggerFactory">For transition and forwarding logs.</param>
    /// <param name="metrics">The process's instruments; no metrics when <see langword="null"/>.</param>
    /// <param name="catalog">The process's clusters, which the proxy's join; a catalog of its own when <see langword="null"/>.</param>
    public RampartProxy(RampartOptions options, IHttpForwarder forwarder, ActiveHealthProber prober, TimeProvider timeProvider, ILoggerFactory loggerFactory, RampartMetrics? metrics = null, ClusterCatalog? catalog = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(forwarder);
        ArgumentNullException.ThrowIfNull(prober);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var errors = RampartConfiguration.Validate(options);
        if (errors.Count > 0)
        {
            throw new RampartConfigurationException(errors);
        }

        Options = options;
        Catalog = catalog ?? new ClusterCatalog();
        Metrics = metrics;
        if (metrics is not null)
        {
            prober.ProbeCompleted += metrics.RecordProbe;
        }

        var forwardingLogger = loggerFactory.CreateLogger("Rampart.Proxy.Forwarding");
        var destinationLogger = loggerFactory.CreateLogger("Rampart.Destinations");
        foreach (var (id, clusterOptions) in options.Clusters)
        {
            var cluster = new ClusterState(id, clusterOptions, timeProvider);
            Catalog.Add(cluster);
            foreach (var destination in cluster.Destinations)
            {
                destination.Changed += t =>
                {
                    DestinationLog.Transition(destinationLogger, destination, t);
                    metrics?.RecordTransition(destination, t);
                };
                prober.Track(destination);
            }

            _forwarders.Add(id, new ClusterForwarder(cluster, forwarder, timeProvider, forwardingLogger, metrics));
        }

        Clusters = [.. _forwarders.Values.Select(f => f.Cluster)];
    }

    /// <summary>The options the proxy runs with.</summary>
    public RampartOptions Options { get; }

    /// <summary>Every cluster.</summary>
    public IReadOnlyList<ClusterState> Clusters { get; } = [];

    /// <summary>Every cluster of the process (the proxy's and any Rampart HttpClient's), shown by status and metrics.</summary>
    public ClusterCatalog Catalog { get; }

    /// <summary>The proxy's instruments, when it was given a meter factory.</summary>
    public RampartMetrics? Metrics { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var forwarder in _forwarders.Values)
        {
            forwarder.Dispose();
        }
    }

    internal ClusterForwarder GetForwarder(string clusterId) => _forwarders[clusterId];
}
