using Rampart.Destinations;

namespace Rampart.LoadBalancing;

/// <summary>Draws two destinations at random and takes the one with fewer requests in flight.</summary>
/// <remarks>O(1): a scan happens only when neither draw is eligible.</remarks>
/// <param name="random">The draws; <see cref="Random.Shared"/> (thread-safe) when <see langword="null"/>. A seeded one makes picks repeatable, for tests that pick from one thread.</param>
public sealed class PowerOfTwoChoicesPolicy(Random? random = null) : ILoadBalancingPolicy
{
    private readonly Random _random = random ?? Random.Shared;

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

        var a = _random.Next(n);
        var b = _random.Next(n - 1);
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
