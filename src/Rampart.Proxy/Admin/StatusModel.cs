using Rampart.Clusters;
using Rampart.Destinations;

namespace Rampart.Proxy.Admin;

/// <summary>The <c>GET /status</c> document (serialized camelCase). The top-level fields are DESIGN.md's contract; more are welcome.</summary>
public sealed record StatusDocument(DateTimeOffset At, IReadOnlyList<ClusterStatus> Clusters, ConfigStatus? Config)
{
    /// <summary>The proxy's server: what Rampart's own HTTP/1.1 server served, what it handed to Kestrel's; the access log's drops. Null without a proxy.</summary>
    public ServerStatus? Server { get; init; }

    /// <summary>The names the proxy's destinations are discovered from, each with its last resolution (empty without discovery; null without a proxy).</summary>
    public IReadOnlyList<DiscoveryStatus>? Discovery { get; init; }

    /// <summary>This replica's fleet (<c>Rampart:Fleet</c>): its state, the live replicas, what the others hold out. Null without a fleet.</summary>
    public FleetStatus? Fleet { get; init; }

    /// <summary>Takes a snapshot of every cluster and destination of the process (the proxy's and any Rampart HttpClient's).</summary>
    public static StatusDocument From(RampartProxy proxy, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        return From(proxy.Catalog, proxy, time);
    }

    /// <summary>Takes a snapshot of every cluster in <paramref name="catalog"/>, with the proxy's configuration when one runs.</summary>
    public static StatusDocument From(ClusterCatalog catalog, RampartProxy? proxy, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(time);
        return new(time.GetUtcNow(), [.. catalog.Clusters.Select(ClusterStatus.From)], proxy is null ? null : ConfigStatus.From(proxy))
        {
            Server = proxy is null ? null : new ServerStatus(proxy.ServerCounters.Served, proxy.ServerCounters.HandedOff, proxy.AccessLog?.Dropped, proxy.ServerCounters.Transport, proxy.ServerCounters.LoopsPinned),
            Fleet = proxy?.Fleet is { } fleet ? FleetStatus.From(fleet) : null,
            Discovery = proxy is null ? null : [.. proxy.Discovery.Names.OrderBy(n => n.Key.Host, StringComparer.Ordinal).Select(n => DiscoveryStatus.From(n.Key, n.Value))],
        };
    }
}

/// <summary>
/// The proxy's server: requests Rampart's own HTTP/1.1 server answered, connections it handed to Kestrel's server,
/// lines the access log dropped (null while it is off), the transport its listeners run on (<c>Sockets</c>, <c>Epoll</c>),
/// and on <c>Epoll</c> whether each loop runs pinned to a CPU of its own (<c>Rampart:Server:PinLoops</c>; null on <c>Sockets</c>).
/// </summary>
public sealed record ServerStatus(long FastServerRequests, long HandedOffConnections, long? AccessLogDropped, string Transport, bool? LoopsPinned);

/// <summary>
/// A discovered name (<c>Dns</c>: its A and AAAA records; <c>DnsSrv</c>: its SRV records' targets): the endpoints it
/// resolved to last, when, for how long; when its resolution fails, why and since when (the last endpoints stay).
/// </summary>
public sealed record DiscoveryStatus(
    string Name,
    string Mode,
    IReadOnlyList<string> Endpoints,
    DateTimeOffset? ResolvedAt,
    double TimeToLiveSeconds,
    DateTimeOffset NextResolutionAt,
    string? Error,
    DateTimeOffset? FailingSince)
{
    internal static DiscoveryStatus From(Discovery.DiscoveredName name, Discovery.NameState state) => new(
        name.Host,
        name.Mode.ToString(),
        [.. state.Endpoints.Select(e => e.Port == 0 ? e.Address.ToString() : e.ToString())],
        state.ResolvedAt,
        state.TimeToLive.TotalSeconds,
        state.NextAt,
        state.Error,
        state.FailingSince);
}

/// <summary>
/// This replica in its fleet: <c>connected</c> (sharing verdicts through Redis) or <c>degraded</c> (Redis unreachable since
/// <see cref="DegradedSince"/>: this replica decides alone), the live replicas, the configured quorum (0: a majority of
/// each destination's informed replicas), and every destination another live replica holds out, with who and why.
/// </summary>
public sealed record FleetStatus(
    string Name,
    string Replica,
    string State,
    DateTimeOffset? DegradedSince,
    IReadOnlyList<string> Replicas,
    int Quorum,
    IReadOnlyList<FleetHeldOutStatus> HeldOut,
    IReadOnlyList<FleetProbersStatus> Probers,
    long MessagesSent,
    long MessagesReceived)
{
    internal static FleetStatus From(Fleet.FleetMember fleet) => new(
        fleet.Name,
        fleet.View.Self,
        fleet.Connected ? "connected" : "degraded",
        fleet.DegradedSince,
        [.. fleet.View.Live.Order(StringComparer.Ordinal)],
        fleet.ConfiguredQuorum,
        [.. fleet.View.HeldOut().Select(k => FleetHeldOutStatus.From(fleet, k))],
        [.. fleet.Destinations().Select(x => new FleetProbersStatus(x.Cluster.Id, x.Destination.Id, fleet.Connected ? fleet.Probers(new(x.Cluster.Id, x.Destination.Id)) : [fleet.View.Self]))],
        fleet.MessagesSent,
        fleet.MessagesReceived);
}

/// <summary>Which live replicas probe a destination for the fleet (<c>Fleet:ProbeReplicas</c> of them; this one alone while degraded).</summary>
public sealed record FleetProbersStatus(string Cluster, string Destination, IReadOnlyList<string> Replicas);

/// <summary>A destination other live replicas hold out: who and why, who votes on it, and the quorum now.</summary>
public sealed record FleetHeldOutStatus(string Cluster, string Destination, IReadOnlyList<FleetVerdictStatus> By, IReadOnlyList<string> Voters, int Quorum)
{
    internal static FleetHeldOutStatus From(Fleet.FleetMember fleet, Fleet.DestinationKey key)
    {
        var by = fleet.View.HeldOutBy(key).Select(b => new FleetVerdictStatus(b.Replica, b.Reason)).ToList();
        return fleet.Find(key) is not { } destination
            ? new(key.Cluster, key.Destination, by, [], 0)
            : new(key.Cluster, key.Destination, by, fleet.Voters(key, destination), fleet.QuorumFor(key, destination));
    }
}

/// <summary>One replica's verdict: it holds the destination out, and why.</summary>
public sealed record FleetVerdictStatus(string Replica, string Reason);

/// <summary>The running configuration: when it was applied, and how the latest reload ended.</summary>
public sealed record ConfigStatus(DateTimeOffset LoadedAt, bool Reloadable, ReloadStatus? LastReload)
{
    internal static ConfigStatus From(RampartProxy proxy) =>
        new(proxy.LoadedAt, proxy.CanReloadConfiguration, ReloadStatus.From(proxy.LastReload));
}

/// <summary>One reload: <c>Applied</c>, <c>Unchanged</c> or <c>Rejected</c>, with what changed or every problem.</summary>
public sealed record ReloadStatus(DateTimeOffset At, string Outcome, IReadOnlyList<string> Changes, IReadOnlyList<string> Errors)
{
    internal static ReloadStatus? From(Configuration.RampartReloadResult? result) =>
        result is null ? null : new(result.At, result.Outcome.ToString(), result.Changes, result.Errors);
}

/// <summary>One cluster in <see cref="StatusDocument"/>.</summary>
public sealed record ClusterStatus(string Id, string LoadBalancing, string HttpVersion, string Forwarder, int Available, int EjectedNow, IReadOnlyList<DestinationStatus> Destinations)
{
    internal static ClusterStatus From(ClusterState cluster)
    {
        var destinations = cluster.Destinations.Select(DestinationStatus.From).ToList();
        var forwarder = cluster.Options.UsesFastForwarder ? "Fast" : "Yarp";
        return new(cluster.Id, cluster.Policy.Name, cluster.HttpVersion.ToString(2), forwarder, destinations.Count(d => d.Available), cluster.EjectionBudget.Ejected, destinations);
    }
}

/// <summary>One destination in <see cref="StatusDocument"/>.</summary>
public sealed record DestinationStatus(
    string Id,
    string Address,
    bool Available,
    bool Draining,
    string ActiveHealth,
    string PassiveHealth,
    string CircuitState,
    long Generation,
    int InFlight,
    long Requests,
    long Failures,
    ActiveStatus Active,
    PassiveStatus Passive,
    CircuitStatus Circuit,
    IReadOnlyList<TransitionStatus> Transitions)
{
    internal static DestinationStatus From(DestinationState d)
    {
        var probe = d.LastProbe;
        var run = d.ProbeRun;
        var state = d.Breaker.State;
        return new(
            d.Id,
            d.Address.ToString(),
            d.IsAvailable,
            d.IsDraining,
            d.ActiveHealth.ToString(),
            d.PassiveHealth.ToString(),
            state.ToString(),
            d.Generation,
            d.InFlight,
            d.Requests,
            d.Failures,
            new ActiveStatus(d.ActiveHealthOptions.Enabled, d.ActiveHealth.ToString(), run.Passes, run.Failures,
                probe is { } p ? new ProbeStatus(p.Result.Passed, p.Result.Detail, p.Result.Duration.TotalMilliseconds, p.At) : null),
            new PassiveStatus(d.PassiveHealth.ToString(), d.Ejections, d.EjectedUntil, d.RefusedEjections),
            new CircuitStatus(state.ToString(), d.Breaker.Generation, d.Breaker.GetRetryAfter()?.TotalSeconds),
            [.. d.GetTransitions().Select(t => new TransitionStatus(t.At, t.Signal.ToString(), t.From.ToString(), t.To.ToString(), t.Reason, t.Generation))])
        {
            Fleet = d.FleetState.ToString(),
        };
    }

    /// <summary>What the fleet says about it here: <c>Trusted</c> (always, without a fleet), <c>Suspect</c>, <c>Confirmed</c> or <c>Excluded</c>.</summary>
    public string Fleet { get; init; } = "Trusted";
}

/// <summary>Active health detail.</summary>
public sealed record ActiveStatus(bool Enabled, string State, int ConsecutivePasses, int ConsecutiveFailures, ProbeStatus? LastProbe);

/// <summary>The latest probe.</summary>
public sealed record ProbeStatus(bool Passed, string Detail, double DurationMs, DateTimeOffset At);

/// <summary>Passive health detail.</summary>
public sealed record PassiveStatus(string State, int Ejections, DateTimeOffset? EjectedUntil, long RefusedEjections);

/// <summary>Circuit breaker detail.</summary>
public sealed record CircuitStatus(string State, long Generation, double? RetryAfterSeconds);

/// <summary>One entry of a destination's transition journal.</summary>
public sealed record TransitionStatus(DateTimeOffset At, string Signal, string From, string To, string Reason, long Generation);
