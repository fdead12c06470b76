using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Rampart.Clusters;
using Rampart.Configuration;
using Rampart.Diagnostics;
using Rampart.Health;
using Rampart.Proxy.Configuration;
using Rampart.Proxy.Diagnostics;
using Rampart.Proxy.Forwarding;
using Yarp.ReverseProxy.Forwarder;

namespace Rampart.Proxy;

/// <summary>The running proxy: its routes, its clusters, their destinations' states, and their forwarders.</summary>
/// <remarks>
/// <para>
/// Everything a request needs is one immutable snapshot (routes, clusters, forwarders), swapped whole by
/// <see cref="Reload(RampartOptions)"/>: a request runs to its end on the snapshot it started with.
/// </para>
/// <para>
/// Hot reload: given the configuration it was built from, the proxy reloads by itself when that
/// configuration changes (a JSON file added with <c>reloadOnChange</c>, for example), and on demand with
/// <see cref="ReloadConfiguration"/>. An invalid new configuration is rejected with the same messages as at
/// start, and the running one stays.
/// </para>
/// </remarks>
public sealed partial class RampartProxy : IDisposable
{
    private readonly IHttpForwarder _forwarder;
    private readonly ActiveHealthProber _prober;
    private readonly TimeProvider _time;
    private readonly ILogger _forwardingLogger;
    private readonly ClusterDiagnostics _diagnostics;
    private readonly ILogger _configurationLogger;
    private readonly IConfiguration? _configuration;
    private readonly IDisposable? _watch;
    private readonly Lock _reloadLock = new();
    private readonly ILogger _discoveryLogger;
    private RampartOptions _declared; // the configuration's options (guarded by _reloadLock); _current's are these with discovered destinations expanded
    private Snapshot _current;
    private CancellationTokenSource _changed = new();
    private FileError? _fileError;
    private bool _explicitReload; // guarded by _reloadLock
    private RampartReloadResult? _lastReload;
    private bool _disposed;

    /// <summary>Builds every cluster from validated options and hands their destinations to the prober.</summary>
    /// <exception cref="RampartConfigurationException">The options are invalid.</exception>
    /// <param name="options">Validated options.</param>
    /// <param name="forwarder">YARP's forwarder.</param>
    /// <param name="prober">The prober that will probe every destination.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="loggerFactory">For transition, forwarding and reload logs.</param>
    /// <param name="metrics">The process's instruments; no metrics when <see langword="null"/>.</param>
    /// <param name="catalog">The process's clusters, which the proxy's join; a catalog of its own when <see langword="null"/>.</param>
    /// <param name="configuration">
    /// The configuration <paramref name="options"/> came from: the proxy reloads when it changes, and
    /// <see cref="ReloadConfiguration"/> reloads from it. No reloading when <see langword="null"/>.
    /// </param>
    /// <param name="diagnostics">Logs and counts its destinations' transitions and probes; one of its own (from <paramref name="loggerFactory"/> and <paramref name="metrics"/>) when <see langword="null"/>.</param>
    public RampartProxy(
        RampartOptions options,
        IHttpForwarder forwarder,
        ActiveHealthProber prober,
        TimeProvider timeProvider,
        ILoggerFactory loggerFactory,
        RampartMetrics? metrics = null,
        ClusterCatalog? catalog = null,
        IConfiguration? configuration = null,
        ClusterDiagnostics? diagnostics = null)
        : this(options, forwarder, prober, timeProvider, loggerFactory, metrics, catalog, configuration, diagnostics, accessLog: null)
    {
    }

    internal RampartProxy(
        RampartOptions options,
        IHttpForwarder forwarder,
        ActiveHealthProber prober,
        TimeProvider timeProvider,
        ILoggerFactory loggerFactory,
        RampartMetrics? metrics,
        ClusterCatalog? catalog,
        IConfiguration? configuration,
        ClusterDiagnostics? diagnostics,
        AccessLog? accessLog)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(forwarder);
        ArgumentNullException.ThrowIfNull(prober);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        options = RampartConfiguration.Snapshot(options, out var errors) ?? throw new RampartConfigurationException(errors);
        _forwarder = forwarder;
        _prober = prober;
        _time = timeProvider;
        _forwardingLogger = loggerFactory.CreateLogger("Rampart.Proxy.Forwarding");
        AccessLog = accessLog is { Enabled: true } ? accessLog : null;
        _diagnostics = diagnostics ?? new ClusterDiagnostics(loggerFactory, metrics);
        _diagnostics.Watch(prober);
        _configurationLogger = loggerFactory.CreateLogger("Rampart.Configuration");
        Catalog = catalog ?? new ClusterCatalog();
        Metrics = metrics;

        _discoveryLogger = loggerFactory.CreateLogger("Rampart.Discovery");
        Discovery = new Discovery.DnsDiscovery(timeProvider, loggerFactory);
        Discovery.Changed += ApplyDiscovered;
        _declared = options;
        Discovery.Want(options);
        _current = Build(Discovery.Expand(options), previous: null, changes: null);
        foreach (var destination in _current.Clusters.SelectMany(c => c.Destinations))
        {
            _prober.Track(destination); // its diagnostics are its cluster's
        }

        Catalog.Replace([], [.. _current.Clusters]);
        LoadedAt = timeProvider.GetUtcNow();
        if (configuration is not null)
        {
            _configuration = configuration;
            WatchFileErrors(configuration);
            _watch = ChangeToken.OnChange(configuration.GetReloadToken, () => ApplyConfiguration(explicitReload: false));
        }
    }

    /// <summary>This replica in its fleet (<c>Rampart:Fleet</c>), once it started; null without a fleet.</summary>
    internal Fleet.FleetMember? Fleet { get; set; }

    /// <summary>The proxy's DNS discovery: the names its destinations are discovered from, and their last resolutions.</summary>
    internal Discovery.DnsDiscovery Discovery { get; }

    /// <summary>The options the proxy runs with now (discovered destinations expanded: one per address their name resolved to).</summary>
    public RampartOptions Options => Volatile.Read(ref _current).Options;

    /// <summary>The proxy's clusters now.</summary>
    public IReadOnlyList<ClusterState> Clusters => Volatile.Read(ref _current).Clusters;

    /// <summary>Every cluster of the process (the proxy's and any Rampart HttpClient's), shown by status and metrics.</summary>
    public ClusterCatalog Catalog { get; }

    /// <summary>The proxy's instruments, when it was given a meter factory.</summary>
    public RampartMetrics? Metrics { get; }

    /// <summary>When the running configuration was applied (at start, or by the latest reload that changed something).</summary>
    public DateTimeOffset LoadedAt { get; private set; }

    /// <summary>The latest reload, if any: applied, unchanged or rejected, with its changes or errors.</summary>
    public RampartReloadResult? LastReload => Volatile.Read(ref _lastReload);

    /// <summary>Raised after every reload that applied something or was rejected (and every explicit one), under the reload lock: a handler must be quick and must not throw.</summary>
    public event Action<RampartReloadResult>? Reloaded;

    /// <summary>Whether the proxy reloads from a configuration (it was given one).</summary>
    public bool CanReloadConfiguration => _configuration is not null;

    /// <summary>The routes' endpoints now (see <see cref="GetChangeToken"/>).</summary>
    internal IReadOnlyList<Endpoint> Endpoints => Volatile.Read(ref _current).Endpoints;

    /// <summary>Fires when a reload has swapped the routes and clusters.</summary>
    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _changed).Token);

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_reloadLock)
        {
            _disposed = true;
            _watch?.Dispose();
            Discovery.Dispose();
            foreach (var forwarder in _current.Forwarders.Values)
            {
                forwarder.Dispose();
            }
        }
    }

    /// <summary>The forwarder of the configuration's only route when that route matches every request; otherwise <see langword="null"/>.</summary>
    internal ClusterForwarder? EverythingForwarder => Volatile.Read(ref _current).Everything;

    /// <summary>What Rampart's own HTTP/1.1 server did (<c>/status</c>).</summary>
    internal Server.ServerCounters ServerCounters { get; } = new();

    /// <summary>The access log, when it is on (<c>Rampart:AccessLog</c>); null otherwise.</summary>
    internal AccessLog? AccessLog { get; }

    /// <summary>The snapshot for <paramref name="options"/>; with a previous one, what stays is carried over and every difference is told in <paramref name="changes"/>.</summary>
    private Snapshot Build(RampartOptions options, Snapshot? previous, List<string>? changes)
    {
        var forwarders = new Dictionary<string, ClusterForwarder>(StringComparer.OrdinalIgnoreCase);
        var forwarded = new ForwardedHeaders(options.ForwardedHeaders, options.ForwardedHeadersFormat);
        foreach (var (id, clusterOptions) in options.Clusters)
        {
            if (previous?.Forwarders.GetValueOrDefault(id) is not { } old)
            {
                var cluster = new ClusterState(id, clusterOptions, _time, _diagnostics);
                changes?.Add($"cluster {id} added ({cluster.Destinations.Count} destination(s))");

                forwarders.Add(id, new ClusterForwarder(cluster, _forwarder, _forwardingLogger, forwarded, AccessLog));
                continue;
            }

            if (OptionsTree.Same(old.Cluster.Options, clusterOptions))
            {
                // Nothing changed: the very same cluster and forwarder (a new one, sharing both, when only the forwarded headers did).
                forwarders.Add(id, old.Forwarded == forwarded ? old : new ClusterForwarder(old.Cluster, _forwarder, _forwardingLogger, forwarded, AccessLog, old.Client, old.FastClient));
                continue;
            }

            var reconfigured = old.Cluster.Reconfigure(clusterOptions);
            ConfigurationChanges.Cluster(old.Cluster, reconfigured, changes!);
            var share = ClusterForwarder.CanShareClient(old.Cluster.Options, clusterOptions);
            forwarders.Add(id, new ClusterForwarder(reconfigured, _forwarder, _forwardingLogger, forwarded, AccessLog, share ? old.Client : null, share ? old.FastClient : null));
        }

        if (previous is not null)
        {
            foreach (var id in previous.Forwarders.Keys.Where(id => !options.Clusters.ContainsKey(id)))
            {
                changes!.Add($"cluster {id} removed");
                foreach (var destination in previous.Forwarders[id].Cluster.Destinations)
                {
                    destination.Retire();
                }
            }

            ConfigurationChanges.Routes(previous.Options, options, changes!);
            if (previous.Options.ForwardedHeaders != options.ForwardedHeaders || previous.Options.ForwardedHeadersFormat != options.ForwardedHeadersFormat)
            {
                changes!.Add($"forwarded headers: {options.ForwardedHeaders}, {options.ForwardedHeadersFormat}");
            }
            ConfigurationChanges.RestartSettings(previous.Options, options, changes!);
        }

        var endpoints = options.Routes.Select(route => BuildEndpoint(route, forwarders[route.Cluster])).ToList();
        var everything = options.Routes is [var only] && MatchesEverything(only) ? forwarders[only.Cluster] : null;
        return new Snapshot(options, forwarders, [.. forwarders.Values.Select(f => f.Cluster)], endpoints, everything);
    }

    /// <summary>A route for any host and method whose path is a lone catch-all parameter (<c>/{**catch-all}</c>) without constraints.</summary>
    private static bool MatchesEverything(Configuration.RouteOptions route) =>
        route.Match.Hosts.Count == 0 && route.Match.Methods.Count == 0
        && RoutePatternFactory.Parse(route.Match.Path).PathSegments is [{ Parts: [RoutePatternParameterPart { IsCatchAll: true, ParameterPolicies.Count: 0 }] }];

    private static Endpoint BuildEndpoint(Configuration.RouteOptions route, ClusterForwarder forwarder)
    {
        var builder = new RouteEndpointBuilder(forwarder.ForwardAsync, RoutePatternFactory.Parse(route.Match.Path), order: 0)
        {
            DisplayName = "rampart route " + route.Id,
        };
        if (route.Match.Hosts.Count > 0)
        {
            builder.Metadata.Add(new HostAttribute([.. route.Match.Hosts]));
        }

        if (route.Match.Methods.Count > 0)
        {
            builder.Metadata.Add(new HttpMethodMetadata([.. route.Match.Methods]));
        }

        return builder.Build();
    }

    private sealed record Snapshot(
        RampartOptions Options,
        Dictionary<string, ClusterForwarder> Forwarders,
        IReadOnlyList<ClusterState> Clusters,
        IReadOnlyList<Endpoint> Endpoints,
        ClusterForwarder? Everything);
}
