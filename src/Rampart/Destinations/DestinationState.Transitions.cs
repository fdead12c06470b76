using System.Globalization;
using Rampart.CircuitBreaking;
using Rampart.Health;

namespace Rampart.Destinations;

// Probes, ejections and breaker changes: every change goes through Record_NeedsLock, and is published after the lock.
public sealed partial class DestinationState
{
    private readonly TransitionJournal _journal = new();
    private AdminState _admin; // guarded by _lock
    private int _passesSinceFailure; // guarded by _lock: probes passed in a row since the last failure that took the destination out

    /// <summary>What active probes say.</summary>
    public ActiveHealthState ActiveHealth
    {
        get
        {
            lock (_lock)
            {
                return _active.State;
            }
        }
    }

    /// <summary>What passive checking says. Reading it ends an ejection that has run its time.</summary>
    public PassiveHealthState PassiveHealth
    {
        get
        {
            EndEjectionIfDue();
            return _passive.State;
        }
    }

    /// <summary>Passive ejections of this destination so far (the next lasts one base ejection time longer).</summary>
    public int Ejections
    {
        get
        {
            lock (_lock)
            {
                return _passive.Ejections;
            }
        }
    }

    /// <summary>When the current passive ejection ends, if the destination is ejected.</summary>
    public DateTimeOffset? EjectedUntil
    {
        get
        {
            if (PassiveHealth != PassiveHealthState.Ejected)
            {
                return null;
            }

            var left = _time.GetElapsedTime(_time.GetTimestamp(), _passive.EjectedUntil);
            return _time.GetUtcNow() + (left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }
    }

    /// <summary>The latest probe's result and when it completed, if any.</summary>
    public (ProbeResult Result, DateTimeOffset At)? LastProbe
    {
        get
        {
            lock (_lock)
            {
                return _active.LastResult is { } result ? (result, _active.LastProbeAt!.Value) : null;
            }
        }
    }

    /// <summary>Consecutive probe passes and failures so far.</summary>
    public (int Passes, int Failures) ProbeRun
    {
        get
        {
            lock (_lock)
            {
                return (_active.ConsecutivePasses, _active.ConsecutiveFailures);
            }
        }
    }

    /// <summary>Whether the next probe should come at the shorter <see cref="ActiveHealthOptions.UnhealthyInterval"/>: unhealthy, changing, ejected or with its breaker open.</summary>
    public bool ProbeSoon
    {
        get
        {
            lock (_lock)
            {
                return Recovering_NeedsLock();
            }
        }
    }

    /// <summary>The latest transitions (up to 32), oldest first.</summary>
    public IReadOnlyList<DestinationTransition> GetTransitions()
    {
        lock (_lock)
        {
            return _journal.ToArray();
        }
    }

    /// <summary>Reports an active probe's result.</summary>
    /// <param name="generation">The destination's <see cref="Generation"/> when the probe started.</param>
    /// <param name="result">The probe's result.</param>
    /// <returns><see langword="false"/> when the result was ignored because the destination changed since the probe started.</returns>
    public bool ReportProbe(long generation, ProbeResult result)
    {
        DestinationTransition? transition = null, unejected = null;
        string? endBreak = null;
        lock (_lock)
        {
            if (generation != _generation)
            {
                return false;
            }

            var from = _active.State;
            if (_active.Record(result, _time.GetUtcNow()) is var (to, reason))
            {
                transition = Record_NeedsLock(SignalState.Of(from), SignalState.Of(to), reason);
            }

            _passesSinceFailure = result.Passed ? Math.Min(_passesSinceFailure + 1, 1_000_000) : 0;
            var recovering = _passive.State == PassiveHealthState.Ejected || Breaker.StoredState == CircuitState.Open;
            if (recovering && ProbesConfirmRecovery_NeedsLock())
            {
                var recovered = string.Create(CultureInfo.InvariantCulture, $"{_passesSinceFailure} probe pass{(_passesSinceFailure == 1 ? "" : "es")} since it failed");
                // Probe-confirmed health is the authority on recovery (Envoy's successful_active_health_check_uneject_host):
                // the multiplied ejection time and break duration only damp flapping where no probes run.
                if (_passive.State == PassiveHealthState.Ejected)
                {
                    _passive.EndEjection_NeedsLock();
                    ReleaseEjection_NeedsLock();
                    unejected = Record_NeedsLock(SignalState.Of(PassiveHealthState.Ejected), SignalState.Of(PassiveHealthState.Probation), recovered + ": on probation");
                }

                endBreak = Breaker.StoredState == CircuitState.Open ? recovered + ": trial calls" : null;
            }
        }

        Publish(transition);
        Publish(unejected);
        if (endBreak is not null)
        {
            Breaker.EndBreak(endBreak);
        }

        return true;
    }

    /// <summary>Whether the next probe should follow at once: one passed on the way back, and the rest of the proof is one probe away each.</summary>
    internal bool ProbeAgainAtOnce
    {
        get
        {
            lock (_lock)
            {
                return _passesSinceFailure > 0 && _passesSinceFailure < _health.Active.HealthyThreshold && Recovering_NeedsLock();
            }
        }
    }

    private bool ProbesConfirmRecovery_NeedsLock() =>
        _active.State == ActiveHealthState.Healthy && _passesSinceFailure >= _health.Active.HealthyThreshold;

    // Out, or on the way in or out: worth probing at the shorter interval.
    private bool Recovering_NeedsLock() =>
        _active.IsUnhealthyOrChanging || _passive.State == PassiveHealthState.Ejected || Breaker.StoredState is CircuitState.Open or CircuitState.HalfOpen;

    /// <summary>Stops sending new requests to this destination; requests in flight finish. <see cref="Reset(string)"/> ends it.</summary>
    /// <param name="reason">Why, for the journal.</param>
    public void Drain(string reason)
    {
        DestinationTransition? transition = null;
        lock (_lock)
        {
            if (_admin != AdminState.Draining)
            {
                _admin = AdminState.Draining;
                transition = Record_NeedsLock(SignalState.Of(AdminState.Serving), SignalState.Of(AdminState.Draining), reason);
            }
        }

        Publish(transition);
    }

    /// <summary>Ends draining, clears passive ejection and closes the breaker, whatever their state (an operator's reset).</summary>
    /// <param name="reason">Why, for the journal.</param>
    public void Reset(string reason)
    {
        DestinationTransition? transition = null, undrained = null;
        lock (_lock)
        {
            if (_admin == AdminState.Draining)
            {
                _admin = AdminState.Serving;
                undrained = Record_NeedsLock(SignalState.Of(AdminState.Draining), SignalState.Of(AdminState.Serving), reason);
            }

            var from = _passive.State;
            if (from == PassiveHealthState.Ejected)
            {
                ReleaseEjection_NeedsLock();
            }

            _passive.Reset_NeedsLock(); // every count, even when healthy: a reset destination starts with a clean slate
            if (from != PassiveHealthState.Healthy)
            {
                transition = Record_NeedsLock(SignalState.Of(from), SignalState.Of(PassiveHealthState.Healthy), reason);
            }
        }

        Publish(undrained);
        Publish(transition);
        Breaker.Reset(reason);
    }

    private void TryEject(string why)
    {
        DestinationTransition? transition = null;
        lock (_lock)
        {
            var from = _passive.State;
            if (from == PassiveHealthState.Ejected || _retired)
            {
                return;
            }

            if (!_budget.TryTake())
            {
                // The cluster's cap: traffic still needs somewhere to go. Start counting afresh.
                _passive.ForgetFailures();
                Interlocked.Increment(ref _refusedEjections);
                return;
            }

            var duration = _passive.Eject_NeedsLock();
            _passesSinceFailure = 0;
            transition = Record_NeedsLock(SignalState.Of(from), SignalState.Of(PassiveHealthState.Ejected),
                string.Create(CultureInfo.InvariantCulture, $"ejected for {duration} ({Ordinal(_passive.Ejections)} ejection): {why}{Shadow(_health.Passive.Enforce)}"));
        }

        Publish(transition);
    }

    /// <summary>Moves an ejected destination whose time is up to probation; returns whether it did (or someone just did).</summary>
    private bool EndEjectionIfDue()
    {
        if (!_passive.EjectionOver())
        {
            return _passive.State != PassiveHealthState.Ejected;
        }

        DestinationTransition? transition = null;
        lock (_lock)
        {
            if (_passive.EjectionOver())
            {
                _passive.EndEjection_NeedsLock();
                ReleaseEjection_NeedsLock();
                transition = Record_NeedsLock(SignalState.Of(PassiveHealthState.Ejected),
                    SignalState.Of(PassiveHealthState.Probation), "ejection time over: on probation");
            }
        }

        Publish(transition);
        return true;
    }

    private void RecordProbationSuccess()
    {
        DestinationTransition? transition = null;
        lock (_lock)
        {
            if (_passive.RecordProbationSuccess_NeedsLock() is { } reason)
            {
                transition = Record_NeedsLock(SignalState.Of(PassiveHealthState.Probation), SignalState.Of(PassiveHealthState.Healthy), reason);
            }
        }

        Publish(transition);
    }

    private void OnBreakerChanged(CircuitTransition change)
    {
        DestinationTransition transition;
        lock (_lock)
        {
            if (change.To == CircuitState.Open)
            {
                _passesSinceFailure = 0;
            }

            transition = Record_NeedsLock(SignalState.Of(change.From), SignalState.Of(change.To), change.Reason + Shadow(_enforceBreaker));
        }

        Publish(transition);
    }

    /// <summary>The only place a change is recorded: bumps the generation, recomputes the exclusions, keeps the journal.</summary>
    private DestinationTransition Record_NeedsLock(SignalState from, SignalState to, string reason)
    {
        var transition = new DestinationTransition(_time.GetUtcNow(), from, to, reason, _generation + 1);
        var breakerWasOut = from.Signal == HealthSignal.Circuit && !from.Is(CircuitState.Closed);
        var wasExcluded = _exclusions != 0 || breakerWasOut;
        var exclusions = ExclusionsNow_NeedsLock();
        Volatile.Write(ref _exclusions, exclusions);
        if (wasExcluded && exclusions == 0 && (to.Signal != HealthSignal.Circuit || to.Is(CircuitState.Closed)))
        {
            SlowStart.Start(); // coming back: recovered, un-ejected, closed or reset
        }

        Volatile.Write(ref _generation, _generation + 1);
        _journal.Add(transition);
        return transition;
    }

    private int ExclusionsNow_NeedsLock()
    {
        var exclusions = 0;
        if (_active.State == ActiveHealthState.Unhealthy)
        {
            exclusions |= ActiveUnhealthy;
        }
        else if (_active.State == ActiveHealthState.Unknown && _health.Active.Enabled && _health.Active.WaitForFirstProbe)
        {
            exclusions |= AwaitingFirstProbe;
        }

        if (_passive.State == PassiveHealthState.Ejected && _health.Passive.Enforce)
        {
            exclusions |= Ejected;
        }

        if (_admin == AdminState.Draining)
        {
            exclusions |= Draining;
        }

        return exclusions;
    }

    private void Publish(DestinationTransition? transition)
    {
        if (transition is not null)
        {
            Changed?.Invoke(transition);
        }
    }

    private static string Shadow(bool enforced) => enforced ? "" : " (shadow mode: not enforced)";

    private static string Ordinal(int n) => n switch
    {
        1 => "1st",
        2 => "2nd",
        3 => "3rd",
        _ => string.Create(CultureInfo.InvariantCulture, $"{n}th"),
    };
}
