using Rampart.Destinations;

namespace Rampart.LoadBalancing;

/// <summary>Picks at random among the eligible destinations.</summary>
/// <param name="random">The draws; <see cref="Random.Shared"/> (thread-safe) when <see langword="null"/>. A seeded one makes picks repeatable, for tests that pick from one thread.</param>
public sealed class RandomPolicy(Random? random = null) : ILoadBalancingPolicy
{
    private readonly Random _random = random ?? Random.Shared;

    /// <inheritdoc/>
    public string Name => "Random";

    /// <inheritdoc/>
    public int Pick(ReadOnlySpan<DestinationState> destinations, in TriedDestinations tried) =>
        destinations.IsEmpty ? -1 : Scan.FirstEligible(destinations, tried, _random.Next(destinations.Length));
}
