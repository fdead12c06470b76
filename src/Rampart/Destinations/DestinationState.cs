using Rampart.CircuitBreaking;
using Rampart.Health;

namespace Rampart.Destinations;

/// <summary>
/// The state machine that decides whether one destination takes requests: active health, passive health, its
/// circuit breaker and an operator's drain, with a generation number and traffic counters. Where it is
/// (<see cref="DestinationEndpoint"/>), its ramp after coming back (<see cref="Destinations.SlowStart"/>) and its
/// journal (<see cref="TransitionJournal"/>) are types of their own.
/// </summary>
/// <remarks>
/// <para>
/// The request path (<see cref="IsAvailable"/>, <see cref="TryAcquire(out DestinationLease)"/>,
/// <see cref="Report(in DestinationLease, CallResult, string?)"/>) takes no lock while nothing changes:
/// exclusions are one <see cref="int"/> of flags, counters are <see cref="Interlocked"/>, and the clock
/// is read only for an ejected destination or an open breaker.
/// </para>
/// <para>
/// Every change of any signal goes through one method under one lock, bumps the generation, is
/// kept in the journal and is raised as <see cref="Changed"/> after the lock is released. A request
/// or probe result from an older generation is ignored by every signal.
/// </para>
/// </remarks>
public sealed partial class DestinationState
{
    private const int ActiveUnhealthy = 1;
    private const int Ejected = 2;
    private const int AwaitingFirstProbe = 4;
    private const int Draining = 8;
    private const int FleetOut = 16;

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly HealthCheckOptions _health;
    private readonly ActiveHealthPolicy _active;
    private readonly PassiveHealthPolicy _passive;
    private readonly EjectionBudget _budget;
    private readonly bool _enforceBreaker;
    private long _generation = 1;
    private int _exclusions;
    private int _inFlight;
    private long _requests;
    private long _failures;
    private long _successes;
    private long _ignored;
    private long _refusedEjections;

    /// <summary>Creates the state of a destination that has not been probed yet.</summary>
    /// <param name="clusterId">The cluster it belongs to.</param>
    /// <param name="id">Its id within the cluster.</param>
    /// <param name="address">Its base address.</param>
    /// <param name="health">Active and passive health options: validated, and a snapshot taken (unless they are one).</param>
    /// <param name="circuitBreaker">Circuit breaker options: validated, and a snapshot taken (unless they are one).</param>
    /// <param name="ejectionBudget">The cluster's cap on passive ejections, shared by its destinations.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="slowStartWindow">How long a destination coming back ramps up its share of picks; zero for off.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public DestinationState(
        string clusterId,
        string id,
        Uri address,
        HealthCheckOptions health,
        CircuitBreakerOptions circuitBreaker,
        EjectionBudget ejectionBudget,
        TimeProvider? timeProvider = null,
        TimeSpan slowStartWindow = default)
        : this(clusterId, id, new DestinationEndpoint(address), Snapshot(health), Snapshot(circuitBreaker), ejectionBudget, timeProvider, slowStartWindow)
    {
    }

    // From snapshots a cluster validated once for all its destinations (thousands of them start in a blink).
    internal DestinationState(
        string clusterId,
        string id,
        DestinationEndpoint endpoint,
        HealthCheckOptions health,
        CircuitBreakerOptions circuitBreaker,
        EjectionBudget ejectionBudget,
        TimeProvider? timeProvider,
        TimeSpan slowStartWindow)
    {
        ArgumentException.ThrowIfNullOrEmpty(clusterId);
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(ejectionBudget);
        ClusterId = clusterId;
        Id = id;
        Endpoint = endpoint;
        _health = health;
        _budget = ejectionBudget;
        _time = timeProvider ?? TimeProvider.System;
        _active = new ActiveHealthPolicy(health.Active);
        _passive = new PassiveHealthPolicy(health.Passive, _time);
        Breaker = new CircuitBreaker(circuitBreaker, _time);
        _enforceBreaker = circuitBreaker.Enforce;
        Breaker.StateChanged += OnBreakerChanged;
        _exclusions = ExclusionsNow_NeedsLock();
        _budget.AddDestination();
        SlowStart = new SlowStart(slowStartWindow, _time);
        SlowStart.Start(); // newly added: ramps up too
    }

    private static HealthCheckOptions Snapshot(HealthCheckOptions health)
    {
        ArgumentNullException.ThrowIfNull(health);
        return health.ToSnapshot();
    }

    private static CircuitBreakerOptions Snapshot(CircuitBreakerOptions circuitBreaker)
    {
        ArgumentNullException.ThrowIfNull(circuitBreaker);
        return circuitBreaker.ToSnapshot();
    }

    /// <summary>Raised after every change of any signal, outside the destination's lock.</summary>
    /// <remarks>A handler must not throw: its exception reaches whichever caller caused the change.</remarks>
    public event Action<DestinationTransition>? Changed;

    /// <summary>The cluster this destination belongs to.</summary>
    public string ClusterId { get; }

    /// <summary>The destination's id within its cluster.</summary>
    public string Id { get; }

    /// <summary>The destination's base address.</summary>
    public Uri Address => Endpoint.Address;

    /// <summary>Where and how requests and probes reach the destination.</summary>
    public DestinationEndpoint Endpoint { get; }

    /// <summary>The destination's circuit breaker.</summary>
    public CircuitBreaker Breaker { get; }

    /// <summary>The active health check options this destination is probed with.</summary>
    public ActiveHealthOptions ActiveHealthOptions => _health.Active;

    /// <summary>Starts at 1; grows by one with every change of any signal.</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>Whether no signal excludes this destination now: not active-Unhealthy, not ejected, and the breaker would admit a call.</summary>
    /// <remarks>Lock-free; reads the clock only when the destination is ejected or its breaker is open.</remarks>
    public bool IsAvailable
    {
        get
        {
            var exclusions = Volatile.Read(ref _exclusions);
            if (exclusions != 0 && !(exclusions == Ejected && EndEjectionIfDue()) && !(exclusions == FleetOut && Volatile.Read(ref _trial) == TrialOpen))
            {
                return false;
            }

            return Breaker.IsAdmitting || !_enforceBreaker;
        }
    }

    /// <summary>Whether an operator is draining this destination: no new requests; those in flight finish.</summary>
    public bool IsDraining => (Volatile.Read(ref _exclusions) & Draining) != 0;

    /// <summary>What an operator has said: serving, or draining.</summary>
    public AdminState AdminState => IsDraining ? AdminState.Draining : AdminState.Serving;

    /// <summary>The ramp of this destination's share of picks after it comes back.</summary>
    public SlowStart SlowStart { get; }

    /// <summary>Requests admitted and not yet reported.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Requests admitted so far.</summary>
    public long Requests => Volatile.Read(ref _requests);

    /// <summary>Requests reported as failures so far.</summary>
    public long Failures => Volatile.Read(ref _failures);

    /// <summary>Requests reported as successes so far.</summary>
    internal long Successes => Volatile.Read(ref _successes);

    /// <summary>Requests reported as ignored so far (neither the destination's success nor its failure: the caller gave up, the request was bad).</summary>
    internal long Ignored => Volatile.Read(ref _ignored);

    /// <summary>Ejections that passive checking wanted but the cluster's <see cref="PassiveHealthOptions.MaxEjectionPercent"/> refused.</summary>
    public long RefusedEjections => Volatile.Read(ref _refusedEjections);

    /// <summary>Asks to send a request to this destination.</summary>
    /// <param name="lease">When admitted, the lease to hand to <see cref="Report(in DestinationLease, CallResult, string?)"/> exactly once.</param>
    /// <returns><see langword="true"/> when the destination is available and its breaker admitted the request.</returns>
    public bool TryAcquire(out DestinationLease lease)
    {
        CircuitPermit permit = default;
        if (!IsAvailable || (!Breaker.TryAcquire(out permit) && _enforceBreaker))
        {
            lease = default;
            return false;
        }

        if (Volatile.Read(ref _exclusions) == FleetOut && Interlocked.CompareExchange(ref _trial, TrialTaken, TrialOpen) != TrialOpen)
        {
            // A suspect's single trial request went to another caller first.
            Breaker.Report(permit, CallResult.Ignored);
            lease = default;
            return false;
        }

        Interlocked.Increment(ref _inFlight);
        Interlocked.Increment(ref _requests);
        // Read after the breaker admitted: a Half-Open transition it made is already counted.
        lease = new DestinationLease(this, permit, Volatile.Read(ref _generation));
        return true;
    }

    /// <summary>Sends a request whatever the health signals say (a cluster in panic): the breaker counts it only if it would have admitted it.</summary>
    public DestinationLease AcquireIgnoringHealth()
    {
        Breaker.TryAcquire(out var permit); // refused: a default permit, whose report the breaker ignores
        Interlocked.Increment(ref _inFlight);
        Interlocked.Increment(ref _requests);
        return new DestinationLease(this, permit, Volatile.Read(ref _generation));
    }

    /// <summary>A guess at how long until this destination may take requests again: zero when available.</summary>
    public TimeSpan RetryAfter()
    {
        if (IsAvailable)
        {
            return TimeSpan.Zero;
        }

        var after = Breaker.GetRetryAfter() ?? Breaker.Options.BreakDuration;
        var exclusions = Volatile.Read(ref _exclusions);
        if ((exclusions & Ejected) != 0)
        {
            var ejection = _time.GetElapsedTime(_time.GetTimestamp(), _passive.EjectedUntil);
            after = ejection > after ? ejection : after;
        }

        if ((exclusions & (ActiveUnhealthy | AwaitingFirstProbe | FleetOut)) != 0)
        {
            var probe = _health.Active.IntervalFor(unhealthyOrChanging: true) * _health.Active.HealthyThreshold;
            after = probe > after ? probe : after;
        }

        return after;
    }

    /// <summary>Reports how a request admitted by <see cref="TryAcquire(out DestinationLease)"/> ended.</summary>
    /// <param name="lease">The lease; one from an older generation counts for the traffic counters only.</param>
    /// <param name="result">Success, failure, or ignored (the client gave up: never the destination's fault).</param>
    /// <param name="failureDetail">A short reason kept in a transition this failure causes, such as <c>"502"</c>.</param>
    public void Report(in DestinationLease lease, CallResult result, string? failureDetail = null)
    {
        Interlocked.Decrement(ref _inFlight);
        Interlocked.Increment(ref result == CallResult.Success ? ref _successes : ref result == CallResult.Failure ? ref _failures : ref _ignored);

        var current = lease.Generation == Volatile.Read(ref _generation);
        // Always report to the breaker, so that a trial permit is released even when the result is stale.
        Breaker.Report(lease.Permit, current ? result : CallResult.Ignored, failureDetail);
        if (current && Volatile.Read(ref _trial) == TrialTaken)
        {
            EndTrial(result, failureDetail); // a suspect's trial request: it verifies the suspicion
        }

        if (!current || result == CallResult.Ignored || !_health.Passive.Enabled)
        {
            return;
        }

        if (!_health.Passive.Enforce)
        {
            EndEjectionIfDue(); // in shadow mode nothing else asks (availability ignores the ejection)
        }

        if (result == CallResult.Success)
        {
            if (_passive.RecordSuccess())
            {
                RecordProbationSuccess();
            }
        }
        else if (_passive.RecordFailure(failureDetail) is { } reason)
        {
            TryEject(reason);
        }
    }
}
