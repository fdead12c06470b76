namespace Rampart.LoadBalancing;

/// <summary>The built-in load-balancing policies, by configuration name.</summary>
public static class LoadBalancingPolicies
{
    /// <summary>The names accepted by <see cref="TryCreate"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["RoundRobin", "PowerOfTwoChoices", "LeastRequests", "Random"];

    /// <summary>Creates a new instance of the policy called <paramref name="name"/> (case-insensitive).</summary>
    public static bool TryCreate(string? name, out ILoadBalancingPolicy policy)
    {
        policy = name?.ToUpperInvariant() switch
        {
            "ROUNDROBIN" => new RoundRobinPolicy(),
            "POWEROFTWOCHOICES" => new PowerOfTwoChoicesPolicy(),
            "LEASTREQUESTS" => new LeastRequestsPolicy(),
            "RANDOM" => new RandomPolicy(),
            _ => null!,
        };
        return policy is not null;
    }
}
