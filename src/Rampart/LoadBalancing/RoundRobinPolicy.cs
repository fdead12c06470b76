using Rampart.Destinations;

namespace Rampart.LoadBalancing;

/// <summary>Takes turns: each pick starts one after the previous; unavailable and tried destinations are skipped.</summary>
/// <remarks>O(1) while destinations are available; a run of unavailable ones is skipped in one scan.</remarks>
public sealed class RoundRobinPolicy : ILoadBalancingPolicy
{
    private uint _next = uint.MaxValue;

    /// <inheritdoc/>
    public string Name => "RoundRobin";

    /// <inheritdoc/>
    public int Pick(ReadOnlySpan<DestinationState> destinations, in TriedDestinations tried)
    {
        var n = destinations.Length;
        if (n == 0)
        {
            return -1;
        }

        var start = (int)(Interlocked.Increment(ref _next) % (uint)n);
        var index = Scan.FirstEligible(destinations, tried, start);
        if (index >= 0 && index != start)
        {
            // Move the rotation past the skipped ones, or the destination after a gap would take its turn too.
            Interlocked.Add(ref _next, (uint)(index > start ? index - start : index + n - start));
        }

        return index;
    }
}
