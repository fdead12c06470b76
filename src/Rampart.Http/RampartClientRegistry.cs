using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Rampart.Clusters;
using Rampart.Configuration;
using Rampart.Diagnostics;
using Rampart.Health;

namespace Rampart.Http;

/// <summary>
/// One <see cref="ClusterState"/> per named client, for the application's lifetime (handlers come and go; the state
/// stays). When the client's options change (its configuration section reloads), the cluster is reconfigured with the
/// proxy's carry-over rules: destinations that stay keep their state, new ones are probed, removed ones retire.
/// </summary>
/// <param name="prober">Probes the clients' destinations.</param>
/// <param name="timeProvider">The clock.</param>
/// <param name="catalog">Where the clients' clusters are listed (status, gauges).</param>
/// <param name="diagnostics">Logs and counts the clients' destination transitions; none when <see langword="null"/>.</param>
/// <param name="options">The clients' options, followed for changes; the clusters never change when <see langword="null"/>.</param>
/// <param name="logger">Where a rejected change is logged.</param>
public sealed partial class RampartClientRegistry(
    ActiveHealthProber prober,
    TimeProvider timeProvider,
    ClusterCatalog catalog,
    ClusterDiagnostics? diagnostics = null,
    IOptionsMonitor<RampartClientOptions>? options = null,
    ILogger<RampartClientRegistry>? logger = null) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Client>> _clusters = new(StringComparer.Ordinal);
    private readonly ILogger _logger = logger ?? (ILogger)NullLogger.Instance;
    private IDisposable? _watch;

    /// <summary>The clusters of every Rampart client created so far, as they are now.</summary>
    public IReadOnlyList<ClusterState> Clusters => [.. _clusters.Values.Where(l => l.IsValueCreated).Select(l => l.Value.Cluster)];

    /// <summary>The client's cluster now, created (and its destinations handed to the prober) on first use.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message names every problem.</exception>
    public ClusterState GetOrCreate(string name, RampartClientOptions options) => GetClient(name, options).Cluster;

    /// <inheritdoc/>
    public void Dispose() => _watch?.Dispose();

    /// <summary>The named client's current cluster and options, which a reload replaces together.</summary>
    internal Client GetClient(string name, RampartClientOptions clientOptions)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(clientOptions);
        if (options is not null && Volatile.Read(ref _watch) is null)
        {
            var watch = options.OnChange((changed, changedName) =>
            {
                if (changedName is not null && _clusters.TryGetValue(changedName, out var existing) && existing.IsValueCreated)
                {
                    Reload(existing.Value, changed);
                }
            });
            if (Interlocked.CompareExchange(ref _watch, watch, null) is not null)
            {
                watch?.Dispose(); // another call subscribed first
            }
        }

        return _clusters.GetOrAdd(name, n => new Lazy<Client>(() =>
        {
            if (clientOptions.BindError is { } bindError)
            {
                throw new ArgumentException($"Invalid cluster options for {n}: {bindError}", nameof(clientOptions));
            }

            var cluster = new ClusterState(n, clientOptions.Cluster, timeProvider, diagnostics);
            catalog.Add(cluster); // shown by the admin status and metrics when a Rampart proxy runs in the same process
            foreach (var destination in cluster.Destinations)
            {
                prober.Track(destination);
            }

            return new Client(cluster, clientOptions);
        })).Value;
    }

    private void Reload(Client client, RampartClientOptions next)
    {
        lock (client)
        {
            var previous = client.Cluster;
            var errors = Problems(next, previous.Id);
            if (errors.Count > 0)
            {
                Log.ReloadRejected(_logger, previous.Id, string.Join("; ", errors));
                return; // the running cluster stays
            }

            var snapshot = OptionsTree.Snapshot(next.Cluster); // validated just above: the one validation
            var same = OptionsTree.Same(previous.Options, snapshot);
            if (same && client.Options.ReturnServiceUnavailable == next.ReturnServiceUnavailable)
            {
                return;
            }

            var cluster = same ? previous : previous.Reconfigure(snapshot);
            var before = previous.Destinations.ToHashSet();
            foreach (var added in cluster.Destinations.Where(d => !before.Contains(d)))
            {
                prober.Track(added);
            }

            if (!ReferenceEquals(cluster, previous))
            {
                catalog.Replace([previous], [cluster]);
            }

            client.Set(cluster, next);
            var after = cluster.Destinations.ToHashSet();
            foreach (var removed in previous.Destinations.Where(d => !after.Contains(d)))
            {
                _ = prober.UntrackAsync(removed);
            }

            Log.Reloaded(_logger, previous.Id, cluster.Destinations.Count);
        }
    }

    /// <summary>Every problem with a client's options: what its section could not bind, or what its cluster breaks, each naming its key.</summary>
    internal static IReadOnlyList<string> Problems(RampartClientOptions options, string name) =>
        options.BindError is { } bindError ? [bindError] : [.. options.Cluster.Validate(name), .. DiscoveryProblems(options.Cluster, name)];

    // DNS discovery is the proxy's: the handler's cluster is what its options list.
    private static IEnumerable<string> DiscoveryProblems(ClusterOptions cluster, string name)
    {
        const string rule = "must be None: the HttpClient handler does not discover destinations (the proxy does)";
        if (DiscoveryModes.IsName(cluster.Discovery) && DiscoveryModes.Of(cluster, new DestinationOptions()) != DiscoveryMode.None)
        {
            yield return $"{name}:Discovery {rule} (was {cluster.Discovery})";
        }

        foreach (var (id, destination) in cluster.Destinations.Where(d => d.Value.Discovery.Length > 0 && DiscoveryModes.IsName(d.Value.Discovery)))
        {
            if (DiscoveryModes.Of(cluster, destination) != DiscoveryMode.None)
            {
                yield return $"{name}:Destinations:{id}:Discovery {rule} (was {destination.Discovery})";
            }
        }
    }

    /// <summary>A named client's cluster and options now; a request reads them once and runs to its end on them.</summary>
    internal sealed class Client(ClusterState cluster, RampartClientOptions options)
    {
        private State _state = new(cluster, options);

        public ClusterState Cluster => Volatile.Read(ref _state).Cluster;

        public RampartClientOptions Options => Volatile.Read(ref _state).Options;

        public (ClusterState Cluster, RampartClientOptions Options) Now
        {
            get
            {
                var state = Volatile.Read(ref _state);
                return (state.Cluster, state.Options);
            }
        }

        public void Set(ClusterState cluster, RampartClientOptions options) => Volatile.Write(ref _state, new State(cluster, options));

        private sealed record State(ClusterState Cluster, RampartClientOptions Options);
    }

    // Event ids 4000-4099: configuration reloads (as the proxy's).
    private static partial class Log
    {
        [LoggerMessage(EventId = 4011, Level = LogLevel.Information, Message = "HttpClient {ClusterId}: options reloaded ({Destinations} destination(s))")]
        public static partial void Reloaded(ILogger logger, string clusterId, int destinations);

        [LoggerMessage(EventId = 4012, Level = LogLevel.Warning, Message = "HttpClient {ClusterId}: new options rejected, the running ones stay: {Errors}")]
        public static partial void ReloadRejected(ILogger logger, string clusterId, string errors);
    }
}
