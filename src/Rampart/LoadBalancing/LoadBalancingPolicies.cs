namespace Rampart.LoadBalancing;

/// <summary>The built-in load-balancing policies, by configuration name.</summary>
public static class LoadBalancingPolicies
{
    /// <summary>The names accepted by <see cref="TryCreate"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["RoundRobin", "PowerOfTwoChoices", "LeastRequests", "Random"];

    /// <summary>Creates a new instance of the policy called <paramref name="name"/> (case-insensitive).</summary>
    /// <param name="name">The policy's name, one of <see cref="Names"/>.</param>
    /// <param name="policy">The policy, when the name is known.</param>
    /// <param name="random">The randomness of the policies that pick at random; <see cref="Random.Shared"/> when <see langword="null"/> (a seeded one makes picks repeatable in tests).</param>
    public static bool TryCreate(string? name, out ILoadBalancingPolicy policy, Random? random = null)
    {
        policy = name?.ToUpperInvariant() switch
        {
            "ROUNDROBIN" => new RoundRobinPolicy(),
            "POWEROFTWOCHOICES" => new PowerOfTwoChoicesPolicy(random),
            "LEASTREQUESTS" => new LeastRequestsPolicy(),
            "RANDOM" => new RandomPolicy(random),
            _ => null!,
        };
        return policy is not null;
    }
}
