using Rampart.Configuration;
using Rampart.Destinations;
using Rampart.Diagnostics;
using Rampart.Failover;
using Rampart.Health;
using Rampart.LoadBalancing;

namespace Rampart.Clusters;

/// <summary>A cluster at run time: its destinations' states, its balancer, its budgets and its failure rule.</summary>
/// <remarks>The destination list is an immutable snapshot; picking takes no lock.</remarks>
public sealed class ClusterState
{
    private readonly DestinationState[] _destinations;
    private readonly TimeProvider _time;
    private readonly ClusterDiagnostics _diagnostics;
    private readonly Random _random;

    /// <summary>Creates the cluster's state from validated <paramref name="options"/>.</summary>
    /// <param name="id">The cluster's id.</param>
    /// <param name="options">The cluster's options (validated; see <see cref="ClusterOptions.Validate(string)"/>).</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="diagnostics">Where its destinations' transitions are logged and counted (and those of every cluster a reload makes of it); none when <see langword="null"/>.</param>
    /// <param name="random">The randomness of random picks (the Random and PowerOfTwoChoices policies, a panic's spread); <see cref="Random.Shared"/> when <see langword="null"/>. Kept across reloads. A seeded <see cref="Random"/> is not thread-safe: for tests that pick from one thread.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public ClusterState(string id, ClusterOptions options, TimeProvider? timeProvider = null, ClusterDiagnostics? diagnostics = null, Random? random = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(options);
        options = options.ToSnapshot(id); // the one validation; a snapshot already (a proxy's configuration) is not validated again
        _time = timeProvider ?? TimeProvider.System;
        _diagnostics = diagnostics ?? ClusterDiagnostics.None;
        _random = random ?? Random.Shared;
        FailureLog = new LogThrottle(_time);
        Id = id;
        Options = options;
        LoadBalancingPolicies.TryCreate(options.LoadBalancing, out var policy, _random);
        Policy = policy;
        EjectionBudget = new EjectionBudget(options.HealthCheck.Passive.MaxEjectionPercent);
        RetryBudget = new RetryBudget(options.Retry.BudgetRatio, options.Retry.MinRetriesPerWindow, _time);
        FailurePolicy = new FailurePolicy(StatusCodeSet.Parse(options.FailureStatusCodes));
        HttpVersion = HttpVersions.Parse(options.HttpVersion);
        _destinations = [.. options.Destinations.Select(d => NewDestination(d.Key, d.Value, previous: null))];
    }

    // A reload: the cluster's new options, with the previous cluster's destinations carried over where they stay.
    private ClusterState(ClusterState previous, ClusterOptions options)
    {
        _time = previous._time;
        _diagnostics = previous._diagnostics;
        _random = previous._random;
        FailureLog = previous.FailureLog;
        Id = previous.Id;
        Options = options;
        LoadBalancingPolicies.TryCreate(options.LoadBalancing, out var policy, _random);
        Policy = policy;
        var old = previous.Options;
        RetryBudget = old.Retry.BudgetRatio == options.Retry.BudgetRatio && old.Retry.MinRetriesPerWindow == options.Retry.MinRetriesPerWindow
            ? previous.RetryBudget
            : new RetryBudget(options.Retry.BudgetRatio, options.Retry.MinRetriesPerWindow, _time);
        FailurePolicy = new FailurePolicy(StatusCodeSet.Parse(options.FailureStatusCodes));
        HttpVersion = HttpVersions.Parse(options.HttpVersion);
        // Same health, breaker, slow-start and HTTP version options: the very same destination objects stay, with every count.
        var sameRules = OptionsTree.Same(old.HealthCheck, options.HealthCheck)
            && OptionsTree.Same(old.CircuitBreaker, options.CircuitBreaker)
            && old.SlowStartWindow == options.SlowStartWindow
            && previous.HttpVersion == HttpVersion;
        EjectionBudget = sameRules ? previous.EjectionBudget : new EjectionBudget(options.HealthCheck.Passive.MaxEjectionPercent);
        var before = previous._destinations.ToDictionary(d => d.Id, StringComparer.OrdinalIgnoreCase);
        _destinations = [.. options.Destinations.Select(d =>
        {
            // A destination that keeps its id but moves to another address is another backend: it starts afresh.
            var stays = before.TryGetValue(d.Key, out var was) && was.Address == new Uri(d.Value.Address) ? was : null;
            return sameRules && stays is not null ? stays : NewDestination(d.Key, d.Value, stays);
        })];
        foreach (var gone in previous._destinations.Except(_destinations))
        {
            gone.Retire();
        }
    }

    /// <summary>The cluster's id.</summary>
    public string Id { get; }

    /// <summary>The options the cluster was built from: a validated, immutable snapshot.</summary>
    public ClusterOptions Options { get; }

    /// <summary>The cluster's destinations.</summary>
    public IReadOnlyList<DestinationState> Destinations => _destinations;

    /// <summary>The load-balancing policy.</summary>
    public ILoadBalancingPolicy Policy { get; }

    /// <summary>The cap on passive ejections.</summary>
    public EjectionBudget EjectionBudget { get; }

    /// <summary>The cap on retries.</summary>
    public RetryBudget RetryBudget { get; }

    /// <summary>What counts as a destination's failure.</summary>
    public FailurePolicy FailurePolicy { get; }

    /// <summary>The clock.</summary>
    internal TimeProvider Time => _time;

    /// <summary>Where the cluster's transitions, probes and attempts are reported.</summary>
    internal ClusterDiagnostics Diagnostics => _diagnostics;

    /// <summary>Holds back repeats of a destination's failure line (kept across reloads).</summary>
    internal LogThrottle FailureLog { get; }

    /// <summary>The HTTP version requests and probes use towards the destinations (<see cref="ClusterOptions.HttpVersion"/>).</summary>
    public Version HttpVersion { get; }

    /// <summary>
    /// The cluster with new options, for a reload: destinations that stay (same id and address) keep their
    /// health, ejection, breaker and drain state; new ones start Unknown; removed ones leave the ejection budget.
    /// This cluster is not changed, so requests already running on it finish on it.
    /// </summary>
    /// <param name="options">The new options (validated; see <see cref="ClusterOptions.Validate(string)"/>).</param>
    /// <returns>The new cluster. Destinations that stay with unchanged health, breaker and slow-start options are the same objects.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public ClusterState Reconfigure(ClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new ClusterState(this, options.ToSnapshot(Id));
    }

    /// <summary>Picks a destination not yet tried for this request and acquires it.</summary>
    /// <param name="tried">Destinations tried so far; the pick is added.</param>
    /// <param name="lease">The lease, when a destination was acquired.</param>
    /// <returns><see langword="false"/> when no destination is available.</returns>
    public bool TryAcquire(ref TriedDestinations tried, out DestinationLease lease)
    {
        var span = _destinations.AsSpan();
        // A destination that looked available may refuse (its breaker's last trial permit was taken): pick again.
        while (tried.Count < span.Length)
        {
            var index = Policy.Pick(span, tried);
            if (index < 0)
            {
                break;
            }

            tried.Add(index);
            if (span[index].TryAcquire(out lease))
            {
                return true;
            }
        }

        return TryAcquireInPanic(ref tried, out lease);
    }

    /// <summary>Whether some destination not yet tried is available now (a hint for deciding to retry).</summary>
    public bool HasUntriedAvailable(in TriedDestinations tried)
    {
        for (var i = 0; i < _destinations.Length; i++)
        {
            if (!tried.Contains(i) && _destinations[i].IsAvailable)
            {
                return true;
            }
        }

        return Options.PanicThreshold > 0 && tried.Count < _destinations.Length && InPanic();
    }

    /// <summary>How long until some destination may take requests again, for a <c>Retry-After</c>: at least one second.</summary>
    public TimeSpan RetryAfter()
    {
        var soonest = TimeSpan.MaxValue;
        foreach (var destination in _destinations)
        {
            var after = destination.RetryAfter();
            soonest = after < soonest ? after : soonest;
        }

        return soonest < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : soonest;
    }

    private DestinationState NewDestination(string id, DestinationOptions options, DestinationState? previous)
    {
        var destination = new DestinationState(
            Id, id, new DestinationEndpoint(new Uri(options.Address), HttpVersion) { Tls = Options.Tls.IsConfigured ? Options.Tls : null }, Options.HealthCheck, Options.CircuitBreaker, EjectionBudget, _time, Options.SlowStartWindow);
        if (previous is not null)
        {
            destination.InheritFrom(previous);
        }

        _diagnostics.Watch(destination); // a destination object that stays across a reload is watched once, when created

        return destination;
    }

    private bool InPanic()
    {
        var available = 0;
        foreach (var destination in _destinations)
        {
            available += destination.IsAvailable ? 1 : 0;
        }

        return available < Options.PanicThreshold * _destinations.Length;
    }

    private bool TryAcquireInPanic(ref TriedDestinations tried, out DestinationLease lease)
    {
        lease = default;
        if (Options.PanicThreshold <= 0 || !InPanic())
        {
            return false;
        }

        // Fewer destinations available than the panic threshold: health checks may be wrong; spread over all.
        var start = _random.Next(_destinations.Length);
        for (var i = 0; i < _destinations.Length; i++)
        {
            var index = (start + i) % _destinations.Length;
            if (!tried.Contains(index))
            {
                tried.Add(index);
                lease = _destinations[index].AcquireIgnoringHealth();
                return true;
            }
        }

        return false;
    }
}
