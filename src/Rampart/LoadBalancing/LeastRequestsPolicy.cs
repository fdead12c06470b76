using Rampart.Destinations;

namespace Rampart.LoadBalancing;

/// <summary>Takes the eligible destination with the fewest requests in flight (ties: the first seen from a rotating start).</summary>
/// <remarks>O(n) per pick: prefer <see cref="PowerOfTwoChoicesPolicy"/> for large clusters.</remarks>
public sealed class LeastRequestsPolicy : ILoadBalancingPolicy
{
    private uint _next;

    /// <inheritdoc/>
    public string Name => "LeastRequests";

    /// <inheritdoc/>
    public int Pick(ReadOnlySpan<DestinationState> destinations, in TriedDestinations tried)
    {
        var n = destinations.Length;
        if (n == 0)
        {
            return -1;
        }

        var start = (int)(Interlocked.Increment(ref _next) % (uint)n);
        int best = -1, bestLoad = int.MaxValue;
        for (var i = 0; i < n; i++)
        {
            var index = start + i < n ? start + i : start + i - n;
            var load = destinations[index].InFlight;
            if (load < bestLoad && Scan.Eligible(destinations, tried, index))
            {
                (best, bestLoad) = (index, load);
            }
        }

        return best;
    }
}
