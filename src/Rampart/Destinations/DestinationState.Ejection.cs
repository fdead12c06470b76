using System.Globalization;
using Rampart.Health;

namespace Rampart.Destinations;

// Passive health: ejection on real traffic, its end, and probation.
public sealed partial class DestinationState
{
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
}
