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

/// <summary>Picks at random among the eligible destinations.</summary>
public sealed class RandomPolicy : ILoadBalancingPolicy
{
    /// <inheritdoc/>
    public string Name => "Random";

    /// <inheritdoc/>
    public int Pick(ReadOnlySpan<DestinationState> destinations, in TriedDestinations tried) =>
        destinations.IsEmpty ? -1 : Scan.FirstEligible(destinations, tried, Random.Shared.Next(destinations.Length));
}

/// <summary>Draws two destinations at random and takes the one with fewer requests in flight.</summary>
/// <remarks>O(1): a scan happens only when neither draw is eligible.</remarks>
public sealed class PowerOfTwoChoicesPolicy : ILoadBalancingPolicy
{
    /// <inheritdoc/>
    public string Name => "PowerOfTwoChoices";

    /// <inheritdoc/>
    public int Pick(ReadOnlySpan<DestinationState> destinations, in TriedDestinations tried)
    {
        var n = destinations.Length;
        if (n <= 1)
        {
            return n == 1 && Scan.Eligible(destinations, tried, 0) ? 0 : -1;
        }

        var a = Random.Shared.Next(n);
        var b = Random.Shared.Next(n - 1);
        if (b >= a)
        {
            b++;
        }

        var aOk = Scan.Eligible(destinations, tried, a);
        var bOk = Scan.Eligible(destinations, tried, b);
        return (aOk, bOk) switch
        {
            (true, true) => destinations[b].InFlight < destinations[a].InFlight ? b : a,
            (true, false) => a,
            (false, true) => b,
            _ => Scan.FirstEligible(destinations, tried, a),
        };
    }
}

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

internal static class Scan
{
    public static bool Eligible(ReadOnlySpan<DestinationState> destinations, in TriedDestinations tried, int index) =>
        !tried.Contains(index) && destinations[index].IsAvailable && destinations[index].TakeSlowStartTurn();

    /// <summary>The first eligible destination from <paramref name="start"/>; if slow start turned every one down, the first available.</summary>
    public static int FirstEligible(ReadOnlySpan<DestinationState> destinations, in TriedDestinations tried, int start)
    {
        var n = destinations.Length;
        var fallback = -1;
        for (var i = 0; i < n; i++)
        {
            var index = start + i < n ? start + i : start + i - n;
            if (tried.Contains(index) || !destinations[index].IsAvailable)
            {
                continue;
            }

            if (destinations[index].TakeSlowStartTurn())
            {
                return index;
            }

            fallback = fallback < 0 ? index : fallback;
        }

        return fallback;
    }
}
