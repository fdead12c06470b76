using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Rampart.Clusters;
using Rampart.Destinations;
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
public sealed class RampartProxy : IDisposable
{
    private readonly IHttpForwarder _forwarder;
    private readonly ActiveHealthProber _prober;
    private readonly TimeProvider _time;
    private readonly ILogger _forwardingLogger;
    private readonly ILogger _destinationLogger;
    private readonly ILogger _configurationLogger;
    private readonly IConfiguration? _configuration;
    private readonly IDisposable? _watch;
    private readonly Lock _reloadLock = new();
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
    public RampartProxy(
        RampartOptions options,
        IHttpForwarder forwarder,
        ActiveHealthProber prober,
        TimeProvider timeProvider,
        ILoggerFactory loggerFactory,
        RampartMetrics? metrics = null,
        ClusterCatalog? catalog = null,
        IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(forwarder);
        ArgumentNullException.ThrowIfNull(prober);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var errors = RampartConfiguration.Validate(options);
        if (errors.Count > 0)
        {
            throw new RampartConfigurationException(errors);
        }

        _forwarder = forwarder;
        _prober = prober;
        _time = timeProvider;
        _forwardingLogger = loggerFactory.CreateLogger("Rampart.Proxy.Forwarding");
        _destinationLogger = loggerFactory.CreateLogger("Rampart.Destinations");
        _configurationLogger = loggerFactory.CreateLogger("Rampart.Configuration");
        Catalog = catalog ?? new ClusterCatalog();
        Metrics = metrics;
        if (metrics is not null)
        {
            prober.ProbeCompleted += metrics.RecordProbe;
        }

        _current = Build(options, previous: null, changes: null);
        Catalog.Replace([], [.. _current.Clusters]);
        LoadedAt = timeProvider.GetUtcNow();
        if (configuration is not null)
        {
            _configuration = configuration;
            WatchFileErrors(configuration);
            _watch = ChangeToken.OnChange(configuration.GetReloadToken, () => ApplyConfiguration(explicitReload: false));
        }
    }

    /// <summary>The options the proxy runs with now.</summary>
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

    /// <summary>Reads the configuration again (its files included) and applies it, as when it changes by itself.</summary>
    /// <returns>How the reload ended.</returns>
    /// <exception cref="InvalidOperationException">The proxy was built without a configuration.</exception>
    public RampartReloadResult ReloadConfiguration()
    {
        var configuration = _configuration ?? throw new InvalidOperationException(
            "This proxy was built from options, not from a configuration: there is nothing to reload from.");

        lock (_reloadLock)
        {
            // Re-read every source, inner configurations included; their change callbacks wait (re-entrant lock, same thread), then one apply.
            _explicitReload = true;
            Volatile.Write(ref _fileError, null); // whatever fails from here on is fresh
            try
            {
                foreach (var root in Roots(configuration))
                {
                    root.Reload();
                }
            }
            finally
            {
                _explicitReload = false;
            }

            return ApplyConfiguration(explicitReload: true)!;
        }
    }

    /// <summary>
    /// Applies new options atomically: new routes and clusters serve new requests, while requests in flight
    /// finish on what they started with. Destinations that stay (same cluster, id and address) keep their
    /// health, ejection, breaker and drain state; removed ones stop being probed; added ones start Unknown
    /// and are probed at once. Invalid options are rejected and the running ones stay.
    /// </summary>
    /// <param name="options">The new options.</param>
    /// <returns>How the reload ended, with what changed or every problem.</returns>
    public RampartReloadResult Reload(RampartOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (_reloadLock)
        {
            var errors = RampartConfiguration.Validate(options);
            return errors.Count > 0 ? Rejected(errors) : Apply(options, recordUnchanged: true);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_reloadLock)
        {
            _disposed = true;
            _watch?.Dispose();
            foreach (var forwarder in _current.Forwarders.Values)
            {
                forwarder.Dispose();
            }
        }
    }

    internal ClusterForwarder GetForwarder(string clusterId) => Volatile.Read(ref _current).Forwarders[clusterId];

    /// <summary>The forwarder of the configuration's only route when that route matches every request; otherwise <see langword="null"/>.</summary>
    internal ClusterForwarder? EverythingForwarder => Volatile.Read(ref _current).Everything;

    private RampartReloadResult? ApplyConfiguration(bool explicitReload)
    {
        lock (_reloadLock)
        {
            if (_explicitReload)
            {
                return null; // ReloadConfiguration applies once when every source has been read
            }

            try
            {
                if (Volatile.Read(ref _fileError) is { } fileError)
                {
                    // A file that failed on a reload leaves its provider empty until it loads again.
                    if (explicitReload || !fileError.Provider.GetChildKeys([], null).Any())
                    {
                        return Rejected([Describe(fileError.Exception)]);
                    }

                    Interlocked.CompareExchange(ref _fileError, null, fileError);
                }

                var options = RampartConfiguration.Load(_configuration!, out var errors);
                return errors.Count > 0 ? Rejected(errors) : Apply(options, recordUnchanged: explicitReload);
            }
#pragma warning disable CA1031 // a reload runs on the configuration's change callback: whatever happens, the running configuration stays
            catch (Exception ex)
#pragma warning restore CA1031
            {
                return Rejected([$"{RampartOptions.SectionName}: the reload failed: {ex.Message}"]);
            }
        }
    }

    // recordUnchanged: false for a change callback, so that a file watcher's second event does not hide what the first applied.
    private RampartReloadResult Apply(RampartOptions options, bool recordUnchanged)
    {
        if (_disposed)
        {
            return Record(RampartReloadOutcome.Rejected, [], ["the proxy has stopped"]);
        }

        var previous = _current;
        var changes = new List<string>();
        var next = Build(options, previous, changes);
        if (changes.Count == 0)
        {
            ConfigurationLog.Unchanged(_configurationLogger);
            var unchanged = new RampartReloadResult(_time.GetUtcNow(), RampartReloadOutcome.Unchanged, [], []);
            return recordUnchanged ? Record(unchanged) : unchanged;
        }

        // New destination objects start being probed before they can be picked; old ones stop after.
        var before = previous.Clusters.SelectMany(c => c.Destinations).ToHashSet();
        var after = next.Clusters.SelectMany(c => c.Destinations).ToHashSet();
        foreach (var destination in after.Where(d => !before.Contains(d)))
        {
            Watch(destination);
        }

        Volatile.Write(ref _current, next);
        Catalog.Replace([.. previous.Clusters.Except(next.Clusters)], [.. next.Clusters.Except(previous.Clusters)]);
        LoadedAt = _time.GetUtcNow();
        var changed = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
        changed.Cancel();
        changed.Dispose();

        foreach (var destination in before.Where(d => !after.Contains(d)))
        {
            _ = _prober.UntrackAsync(destination);
        }

        // A replaced forwarder's client may still carry requests that started before the swap: dispose it once they are over.
        var kept = next.Forwarders.Values.Select(f => f.Client).ToHashSet();
        foreach (var old in previous.Forwarders.Values.Where(f => !kept.Contains(f.Client)))
        {
            _ = DisposeLaterAsync(old, old.Cluster.Options.Timeout + TimeSpan.FromSeconds(5));
        }

        ConfigurationLog.Applied(_configurationLogger, changes);
        return Record(RampartReloadOutcome.Applied, changes, []);
    }

    private RampartReloadResult Rejected(IReadOnlyList<string> errors)
    {
        ConfigurationLog.Rejected(_configurationLogger, errors);
        return Record(RampartReloadOutcome.Rejected, [], errors);
    }

    private RampartReloadResult Record(RampartReloadOutcome outcome, IReadOnlyList<string> changes, IReadOnlyList<string> errors) =>
        Record(new RampartReloadResult(_time.GetUtcNow(), outcome, changes, errors));

    private RampartReloadResult Record(RampartReloadResult result)
    {
        Volatile.Write(ref _lastReload, result);
        Reloaded?.Invoke(result);
        return result;
    }

    /// <summary>The snapshot for <paramref name="options"/>; with a previous one, what stays is carried over and every difference is told in <paramref name="changes"/>.</summary>
    private Snapshot Build(RampartOptions options, Snapshot? previous, List<string>? changes)
    {
        var forwarders = new Dictionary<string, ClusterForwarder>(StringComparer.OrdinalIgnoreCase);
        foreach (var (id, clusterOptions) in options.Clusters)
        {
            if (previous?.Forwarders.GetValueOrDefault(id) is not { } old)
            {
                var cluster = new ClusterState(id, clusterOptions, _time);
                if (previous is null)
                {
                    foreach (var destination in cluster.Destinations)
                    {
                        Watch(destination);
                    }
                }
                else
                {
                    changes!.Add($"cluster {id} added ({cluster.Destinations.Count} destination(s))");
                }

                forwarders.Add(id, new ClusterForwarder(cluster, _forwarder, _time, _forwardingLogger, Metrics));
                continue;
            }

            if (OptionsComparison.Same(old.Cluster.Options, clusterOptions))
            {
                forwarders.Add(id, old); // nothing changed: the very same cluster and forwarder
                continue;
            }

            var reconfigured = old.Cluster.Reconfigure(clusterOptions);
            DescribeClusterChanges(old.Cluster, reconfigured, changes!);
            var sameClient = old.Cluster.Options.AttemptTimeout == clusterOptions.AttemptTimeout
                && old.Cluster.Options.MaxConnectionsPerDestination == clusterOptions.MaxConnectionsPerDestination;
            var client = sameClient ? old.Client : null;
            forwarders.Add(id, new ClusterForwarder(reconfigured, _forwarder, _time, _forwardingLogger, Metrics, client));
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

            DescribeRouteChanges(previous.Options, options, changes!);
            DescribeRestartSettings(previous.Options, options, changes!);
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

    private static void DescribeClusterChanges(ClusterState old, ClusterState reconfigured, List<string> changes)
    {
        var before = old.Destinations.ToDictionary(d => d.Id, StringComparer.OrdinalIgnoreCase);
        var after = reconfigured.Destinations.ToDictionary(d => d.Id, StringComparer.OrdinalIgnoreCase);
        foreach (var d in reconfigured.Destinations)
        {
            if (!before.TryGetValue(d.Id, out var was))
            {
                changes.Add($"cluster {old.Id}: destination {d.Id} added ({d.Address})");
            }
            else if (was.Address != d.Address)
            {
                changes.Add($"cluster {old.Id}: destination {d.Id} moved to {d.Address} (starts afresh)");
            }
        }

        foreach (var d in old.Destinations.Where(d => !after.ContainsKey(d.Id)))
        {
            changes.Add($"cluster {old.Id}: destination {d.Id} removed");
        }

        var settings = DescribeSettings(old.Options, reconfigured.Options);
        if (settings.Count > 0)
        {
            changes.Add($"cluster {old.Id}: {string.Join(", ", settings)} changed (destinations that stay keep their state)");
        }
    }

    private static List<string> DescribeSettings(ClusterOptions a, ClusterOptions b)
    {
        var changed = new List<string>();
        void Check(string name, object x, object y)
        {
            if (!OptionsComparison.Same(x, y))
            {
                changed.Add(name);
            }
        }

        Check(nameof(a.LoadBalancing), a.LoadBalancing, b.LoadBalancing);
        Check(nameof(a.HealthCheck) + ":Active", a.HealthCheck.Active, b.HealthCheck.Active);
        Check(nameof(a.HealthCheck) + ":Passive", a.HealthCheck.Passive, b.HealthCheck.Passive);
        Check(nameof(a.CircuitBreaker), a.CircuitBreaker, b.CircuitBreaker);
        Check(nameof(a.Retry), a.Retry, b.Retry);
        Check(nameof(a.AttemptTimeout), a.AttemptTimeout, b.AttemptTimeout);
        Check(nameof(a.Timeout), a.Timeout, b.Timeout);
        Check(nameof(a.FailureStatusCodes), a.FailureStatusCodes, b.FailureStatusCodes);
        Check(nameof(a.SlowStartWindow), a.SlowStartWindow, b.SlowStartWindow);
        Check(nameof(a.PanicThreshold), a.PanicThreshold, b.PanicThreshold);
        Check(nameof(a.MaxConnectionsPerDestination), a.MaxConnectionsPerDestination, b.MaxConnectionsPerDestination);
        return changed;
    }

    private static void DescribeRouteChanges(RampartOptions a, RampartOptions b, List<string> changes)
    {
        var before = a.Routes.ToDictionary(r => r.Id, StringComparer.OrdinalIgnoreCase);
        var after = b.Routes.ToDictionary(r => r.Id, StringComparer.OrdinalIgnoreCase);
        foreach (var route in b.Routes)
        {
            if (!before.TryGetValue(route.Id, out var was))
            {
                changes.Add($"route {route.Id} added ({route.Match.Path} → {route.Cluster})");
            }
            else if (!OptionsComparison.Same(was, route))
            {
                changes.Add($"route {route.Id} changed ({route.Match.Path} → {route.Cluster})");
            }
        }

        changes.AddRange(a.Routes.Where(r => !after.ContainsKey(r.Id)).Select(r => $"route {r.Id} removed"));
        if (changes.Count == 0 && !a.Routes.Select(r => r.Id).SequenceEqual(b.Routes.Select(r => r.Id), StringComparer.OrdinalIgnoreCase))
        {
            changes.Add("routes reordered");
        }
    }

    private static void DescribeRestartSettings(RampartOptions a, RampartOptions b, List<string> changes)
    {
        const string root = RampartOptions.SectionName;
        if (!a.Listen.SequenceEqual(b.Listen))
        {
            changes.Add($"{root}:Listen changed: takes effect at the next start");
        }

        if (!OptionsComparison.Same(a.Admin, b.Admin))
        {
            changes.Add($"{root}:Admin changed: takes effect at the next start");
        }

        if (a.ShutdownTimeout != b.ShutdownTimeout)
        {
            changes.Add($"{root}:ShutdownTimeout changed: takes effect at the next start");
        }
    }

    private void Watch(DestinationState destination)
    {
        var metrics = Metrics;
        var logger = _destinationLogger;
        destination.Changed += t =>
        {
            DestinationLog.Transition(logger, destination, t);
            metrics?.RecordTransition(destination, t);
        };
        _prober.Track(destination);
    }

    /// <summary>A configuration file that fails to load on a reload is reported by the next reload instead of ending the process.</summary>
    private void WatchFileErrors(IConfiguration configuration)
    {
        foreach (var provider in Roots(configuration).SelectMany(r => r.Providers).OfType<FileConfigurationProvider>())
        {
            provider.Source.OnLoadException ??= context =>
            {
                Volatile.Write(ref _fileError, new FileError(context.Provider, context.Exception));
                context.Ignore = true;
            };
        }
    }

    /// <summary>The configuration's roots, the configurations chained into it included (a host's configuration often wraps the application's).</summary>
    private static IEnumerable<IConfigurationRoot> Roots(IConfiguration configuration)
    {
        if (configuration is not IConfigurationRoot root)
        {
            yield break;
        }

        yield return root;
        foreach (var chained in root.Providers.OfType<ChainedConfigurationProvider>())
        {
            foreach (var inner in Roots(chained.Configuration))
            {
                yield return inner;
            }
        }
    }

    private static string Describe(Exception fileError)
    {
        var innermost = fileError;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        return ReferenceEquals(innermost, fileError)
            ? fileError.Message
            : string.Create(CultureInfo.InvariantCulture, $"{fileError.Message.TrimEnd('.')}: {innermost.Message}");
    }

    private async Task DisposeLaterAsync(ClusterForwarder forwarder, TimeSpan after)
    {
        await Task.Delay(after, _time).ConfigureAwait(false);
        forwarder.Dispose();
    }

    private sealed record FileError(FileConfigurationProvider Provider, Exception Exception);

    private sealed record Snapshot(
        RampartOptions Options,
        Dictionary<string, ClusterForwarder> Forwarders,
        IReadOnlyList<ClusterState> Clusters,
        IReadOnlyList<Endpoint> Endpoints,
        ClusterForwarder? Everything);
}
