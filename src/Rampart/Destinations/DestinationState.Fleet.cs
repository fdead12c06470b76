using Rampart.CircuitBreaking;
using Rampart.Health;

namespace Rampart.Destinations;

// The fleet's signal: other replicas' verdicts, verified here by probe, and a quorum's exclusion (see FleetState).
public sealed partial class DestinationState
{
    private const int TrialNone = 0;
    private const int TrialOpen = 1; // a suspect without probes may take one trial request
    private const int TrialTaken = 2; // it is in flight
    private FleetState _verdict; // guarded by _lock: this replica's view (Trusted, Suspect or Confirmed)
    private int _trial; // TrialNone, TrialOpen or TrialTaken
    private string? _quorum; // guarded by _lock: why a quorum holds it out; null while none does

    /// <summary>What the fleet says about this destination, as this replica sees it; <see cref="FleetState.Trusted"/> without a fleet.</summary>
    public FleetState FleetState
    {
        get
        {
            lock (_lock)
            {
                return Fleet_NeedsLock();
            }
        }
    }

    /// <summary>
    /// Whether this replica's own signals hold the destination out: active-Unhealthy, ejected, its breaker open or
    /// isolated, or its own verification failed (<see cref="FleetState.Confirmed"/>). What it tells the fleet; never what
    /// the fleet told it (a suspicion or a quorum is not echoed).
    /// </summary>
    public bool IsHeldOutHere
    {
        get
        {
            lock (_lock)
            {
                return _active.State == ActiveHealthState.Unhealthy
                    || (_passive.State == PassiveHealthState.Ejected && _health.Passive.Enforce)
                    || _verdict == FleetState.Confirmed
                    || (Breaker.StoredState is CircuitState.Open or CircuitState.Isolated && _enforceBreaker);
            }
        }
    }

    /// <summary>
    /// Another replica holds it out: no ordinary traffic until this replica's next probe says otherwise, or, without
    /// active health checks, a single trial request (which fails over to another destination when it fails).
    /// </summary>
    /// <returns>Whether it became suspect here (the caller probes it at once).</returns>
    internal bool Suspect(string reason) => ChangeFleet(() => _verdict == FleetState.Trusted, () =>
    {
        _verdict = FleetState.Suspect;
        Volatile.Write(ref _trial, _health.Active.Enabled ? TrialNone : TrialOpen);
    }, reason);

    // The trial request of a suspect without probes ended: success trusts it, failure confirms; a request the client gave up leaves the trial open.
    private void EndTrial(CallResult result, string? failureDetail)
    {
        if (Interlocked.CompareExchange(ref _trial, result == CallResult.Ignored ? TrialOpen : TrialNone, TrialTaken) != TrialTaken || result == CallResult.Ignored)
        {
            return;
        }

        DestinationTransition? transition = null;
        lock (_lock)
        {
            if (_verdict == FleetState.Suspect)
            {
                var from = Fleet_NeedsLock();
                _verdict = result == CallResult.Success ? FleetState.Trusted : FleetState.Confirmed;
                transition = Record_NeedsLock(SignalState.Of(from), SignalState.Of(Fleet_NeedsLock()),
                    result == CallResult.Success ? "verified here: a trial request succeeded" : "verified here: a trial request failed: " + failureDetail);
            }
        }

        Publish(transition);
    }

    /// <summary>A quorum of live replicas holds it out (<paramref name="reason"/> says which), or no longer does (null).</summary>
    internal bool SetQuorum(string? reason) => ChangeFleet(() => (_quorum is null) != (reason is null), () =>
    {
        _quorum = reason;
        Volatile.Write(ref _trial, reason is null && _verdict == FleetState.Suspect && !_health.Active.Enabled ? TrialOpen : TrialNone); // no trial under a quorum
    }, reason ?? "the quorum that held it out is lost");

    /// <summary>No other replica holds it out any more (or the fleet is unreachable): this replica's own signals decide again.</summary>
    internal bool TrustAgain(string reason) => ChangeFleet(() => _verdict != FleetState.Trusted || _quorum is not null, () =>
    {
        (_verdict, _quorum) = (FleetState.Trusted, null);
        Volatile.Write(ref _trial, TrialNone);
    }, reason);

    private FleetState Fleet_NeedsLock() => _quorum is not null ? FleetState.Excluded : _verdict;

    private bool ChangeFleet(Func<bool> applies, Action change, string reason)
    {
        DestinationTransition? transition = null;
        lock (_lock)
        {
            if (applies())
            {
                var from = Fleet_NeedsLock();
                change();
                transition = Record_NeedsLock(SignalState.Of(from), SignalState.Of(Fleet_NeedsLock()), reason);
            }
        }

        Publish(transition);
        return transition is not null;
    }

    // A probe verifies a suspicion: passed, this replica trusts it; failed, it holds it out too. Recorded even under a
    // quorum (Excluded to Excluded), since what this replica tells the fleet changed.
    private DestinationTransition? VerifyByProbe_NeedsLock(ProbeResult result)
    {
        var verdict = (_verdict, result.Passed) switch
        {
            (FleetState.Suspect or FleetState.Confirmed, true) => FleetState.Trusted,
            (FleetState.Suspect, false) => FleetState.Confirmed,
            _ => _verdict,
        };
        if (verdict == _verdict)
        {
            return null;
        }

        var from = Fleet_NeedsLock();
        _verdict = verdict;
        var reason = result.Passed ? "verified here: the probe passed" : "verified here: the probe failed: " + result.Detail;
        return Record_NeedsLock(SignalState.Of(from), SignalState.Of(Fleet_NeedsLock()), reason);
    }
}
