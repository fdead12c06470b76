using System.Globalization;
using Rampart.CircuitBreaking;
using Rampart.Health;

namespace Rampart.Destinations;

// Active health: probe results, and the recovery they confirm.
public sealed partial class DestinationState
{
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

    /// <summary>Reports an active probe's result.</summary>
    /// <param name="generation">The destination's <see cref="Generation"/> when the probe started.</param>
    /// <param name="result">The probe's result.</param>
    /// <returns><see langword="false"/> when the result was ignored because the destination changed since the probe started.</returns>
    public bool ReportProbe(long generation, ProbeResult result)
    {
        DestinationTransition? transition = null, unejected = null, verified = null;
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

            verified = VerifyByProbe_NeedsLock(result);
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
        Publish(verified);
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
        _active.IsUnhealthyOrChanging || Fleet_NeedsLock() != FleetState.Trusted || _passive.State == PassiveHealthState.Ejected || Breaker.StoredState is CircuitState.Open or CircuitState.HalfOpen;
}
