using Rampart.Health;

namespace Rampart.Destinations;

// An operator's actions: drain and reset.
public sealed partial class DestinationState
{
    private AdminState _admin; // guarded by _lock

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
}
