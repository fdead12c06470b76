namespace Rampart.Destinations;

/// <summary>One change of a destination's state, as kept in its journal, logged and shown in status.</summary>
/// <param name="At">When, by the destination's <see cref="TimeProvider"/>.</param>
/// <param name="From">The state left.</param>
/// <param name="To">The state entered (of the same signal).</param>
/// <param name="Reason">Why, for people: "2 consecutive probe failures: connection refused", "ejected for 00:00:20 (2nd ejection): 5 consecutive failures: 502".</param>
/// <param name="Generation">The destination's generation that starts with this change.</param>
public sealed record DestinationTransition(
    DateTimeOffset At,
    SignalState From,
    SignalState To,
    string Reason,
    long Generation)
{
    /// <summary>Which part of the state changed.</summary>
    public HealthSignal Signal => To.Signal;
}
