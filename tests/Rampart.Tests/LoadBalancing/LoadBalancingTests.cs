using Rampart.CircuitBreaking;
using Rampart.LoadBalancing;
using Rampart.Tests.Destinations;

namespace Rampart.Tests.LoadBalancing;

public sealed class LoadBalancingTests
{
    public static TheoryData<string> Policies => new() { "RoundRobin", "PowerOfTwoChoices", "LeastRequests", "Random" };

    [Fact]
    public void RoundRobin_TakesTurns()
    {
        var f = new DestinationFixture(destinations: 3);
        var policy = new RoundRobinPolicy();
        Assert.Equal([0, 1, 2, 0, 1, 2], Enumerable.Range(0, 6).Select(_ => policy.Pick(f.All.ToArray(), default)));
    }

    [Fact]
    public void RandomPolicies_SeededDraws_RepeatablePicks()
    {
        var f = new DestinationFixture(destinations: 8);
        var all = f.All.ToArray();
        int[] Picks(ILoadBalancingPolicy policy) => [.. Enumerable.Range(0, 40).Select(_ => policy.Pick(all, default))];

        Assert.Equal(Picks(new RandomPolicy(new Random(7))), Picks(new RandomPolicy(new Random(7))));
        Assert.Equal(Picks(new PowerOfTwoChoicesPolicy(new Random(7))), Picks(new PowerOfTwoChoicesPolicy(new Random(7))));
        Assert.NotEqual(Picks(new RandomPolicy(new Random(7))), Picks(new RandomPolicy(new Random(8))));
    }

    [Fact]
    public void RoundRobin_WithAGap_StaysEvenOverTheRest()
    {
        var f = new DestinationFixture(destinations: 4);
        f.All[2].Breaker.Isolate();
        var policy = new RoundRobinPolicy();
        var counts = new int[4];
        for (var i = 0; i < 300; i++)
        {
            counts[policy.Pick(f.All.ToArray(), default)]++;
        }

        Assert.Equal([100, 100, 0, 100], counts);
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Pick_NeverChoosesAnUnavailableOrTriedDestination(string name)
    {
        var f = new DestinationFixture(destinations: 5);
        f.All[1].Breaker.Isolate();
        f.Request(f.All[3], CallResult.Failure, times: 3); // ejected
        var tried = default(TriedDestinations);
        tried.Add(0);
        LoadBalancingPolicies.TryCreate(name, out var policy);

        var picks = Enumerable.Range(0, 200).Select(_ => policy.Pick(f.All.ToArray(), tried)).ToHashSet();

        Assert.Equal([2, 4], picks.Order());
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Pick_NothingEligible_ReturnsMinusOne(string name)
    {
        var f = new DestinationFixture(destinations: 2);
        f.All[0].Breaker.Isolate();
        var tried = default(TriedDestinations);
        tried.Add(1);
        LoadBalancingPolicies.TryCreate(name, out var policy);
        Assert.Equal(-1, policy.Pick(f.All.ToArray(), tried));
    }

    [Fact]
    public void LeastRequests_TakesTheLeastLoaded()
    {
        var f = new DestinationFixture(destinations: 3);
        Assert.True(f.All[0].TryAcquire(out _));
        Assert.True(f.All[2].TryAcquire(out _));
        Assert.Equal(1, new LeastRequestsPolicy().Pick(f.All.ToArray(), default));
    }

    [Fact]
    public void TriedDestinations_ManyAboveSixtyFour_AllTracked()
    {
        var tried = default(TriedDestinations);
        var added = new[] { 70, 9000, 64, 100, 5000, 65, 12 };
        foreach (var index in added)
        {
            tried.Add(index);
        }

        Assert.All(added, i => Assert.True(tried.Contains(i)));
        Assert.False(tried.Contains(71) || tried.Contains(0) || tried.Contains(63));
        Assert.Equal(added.Length, tried.Count);
    }

    [Fact]
    public void TriedDestinations_BeyondSixtyFour_StillTracked()
    {
        var tried = default(TriedDestinations);
        tried.Add(3);
        tried.Add(100);
        tried.Add(100);
        Assert.True(tried.Contains(3) && tried.Contains(100) && !tried.Contains(64));
        Assert.Equal(2, tried.Count);
    }
}
