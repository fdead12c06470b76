using Rampart.CircuitBreaking;

namespace Rampart.Destinations;

/// <summary>
/// Proof that a destination admitted a request, handed back to
/// <see cref="DestinationState.Report(in DestinationLease, CallResult, string?)"/> when it ends.
/// </summary>
/// <remarks>
/// It carries the destination's generation at admission: when the destination's state has changed
/// since, the outcome is ignored by every health signal (the breaker applies the same rule to its own
/// generation), so that requests already in flight when a destination was ejected or opened cannot
/// eject it again or close it.
/// </remarks>
public readonly struct DestinationLease
{
    internal DestinationLease(DestinationState destination, CircuitPermit permit, long generation)
    {
        Destination = destination;
        Permit = permit;
        Generation = generation;
    }

    /// <summary>The destination that admitted the request.</summary>
    public DestinationState Destination { get; }

    /// <summary>The destination's generation at admission.</summary>
    public long Generation { get; }

    internal CircuitPermit Permit { get; }
}
