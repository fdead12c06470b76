using System.Globalization;
using Rampart.CircuitBreaking;
using Rampart.Health;

namespace Rampart.Destinations;

// Every change of any signal goes through Record_NeedsLock, is kept in the journal, and is published after the lock.
public sealed partial class DestinationState
{
    private readonly TransitionJournal _journal = new();

    /// <summary>The latest transitions (up to 32), oldest first.</summary>
    public IReadOnlyList<DestinationTransition> GetTransitions()
    {
        lock (_lock)
        {
            return _journal.ToArray();
        }
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

        if (Fleet_NeedsLock() != FleetState.Trusted)
        {
            exclusions |= FleetOut;
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
