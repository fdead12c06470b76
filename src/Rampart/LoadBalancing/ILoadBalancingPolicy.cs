using Rampart.Destinations;

namespace Rampart.LoadBalancing;

/// <summary>Picks which destination takes a request.</summary>
/// <remarks>Implementations are thread-safe, take no lock and allocate nothing per pick.</remarks>
public interface ILoadBalancingPolicy
{
    /// <summary>The policy's configuration name.</summary>
    string Name { get; }

    /// <summary>Picks an available destination that is not in <paramref name="tried"/>.</summary>
    /// <param name="destinations">The cluster's destinations (an immutable snapshot).</param>
    /// <param name="tried">Destinations already tried for this request, by index.</param>
    /// <returns>The index of the pick, or -1 when none is available.</returns>
    int Pick(ReadOnlySpan<DestinationState> destinations, in TriedDestinations tried);
}
