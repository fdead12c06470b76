using Microsoft.Extensions.Time.Testing;
using Rampart.CircuitBreaking;
using Rampart.Clusters;
using Rampart.LoadBalancing;

namespace Rampart.Tests.Clusters;

public sealed class ClusterStateTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero));

    private ClusterState Cluster(int destinations, Action<ClusterOptions>? configure = null)
    {
        var options = new ClusterOptions();
        for (var i = 0; i < destinations; i++)
        {
            options.Destinations[$"d{i}"] = new DestinationOptions { Address = $"http://127.0.0.1:{9001 + i}" };
        }

        configure?.Invoke(options);
        return new ClusterState("web", options, _time);
    }

    [Fact]
    public void TryAcquire_NeverTheSameDestinationTwiceForOneRequest()
    {
        var cluster = Cluster(3);
        var tried = default(TriedDestinations);
        var picked = new List<string>();
        while (cluster.TryAcquire(ref tried, out var lease))
        {
            picked.Add(lease.Destination.Id);
        }

        Assert.Equal(["d0", "d1", "d2"], picked.Order());
    }

    [Fact]
    public void NoneAvailable_NoPanic_Refuses()
    {
        var cluster = Cluster(2);
        foreach (var d in cluster.Destinations)
        {
            d.Breaker.Isolate();
        }

        var tried = default(TriedDestinations);
        Assert.False(cluster.TryAcquire(ref tried, out _));
        Assert.Null(cluster.Destinations[0].Breaker.GetRetryAfter());
    }

    [Fact]
    public void BelowThePanicThreshold_SpreadsOverAll()
    {
        var cluster = Cluster(4, o => o.PanicThreshold = 0.5);
        cluster.Destinations[0].Breaker.Isolate();
        cluster.Destinations[1].Breaker.Isolate();
        cluster.Destinations[2].Breaker.Isolate(); // 1 of 4 available: under 50 %

        var seen = new HashSet<string>();
        for (var i = 0; i < 200; i++)
        {
            var tried = default(TriedDestinations);
            tried.Add(3);                             // the available one was tried already
            Assert.True(cluster.TryAcquire(ref tried, out var lease));
            seen.Add(lease.Destination.Id);
            lease.Destination.Report(lease, CallResult.Success);
        }

        Assert.Equal(["d0", "d1", "d2"], seen.Order());
    }

    [Fact]
    public void RetryAfter_IsTheSoonestBreakEnd_AtLeastOneSecond()
    {
        var cluster = Cluster(2, o =>
        {
            o.CircuitBreaker.ConsecutiveFailures = 1;
            o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(7);
            o.HealthCheck.Passive.Enabled = false;
        });
        foreach (var d in cluster.Destinations)
        {
            Assert.True(d.TryAcquire(out var lease));
            d.Report(lease, CallResult.Failure, "502");
            _time.Advance(TimeSpan.FromSeconds(2));
        }

        Assert.Equal(TimeSpan.FromSeconds(3), cluster.RetryAfter()); // d0: 7 s break, 4 s ago
        _time.Advance(TimeSpan.FromSeconds(2.5));
        Assert.Equal(TimeSpan.FromSeconds(1), cluster.RetryAfter());  // 0.5 s left: at least 1 s
    }

    [Fact]
    public void RetryBudget_AllowsTheFloorThenAShareOfRequests()
    {
        var cluster = Cluster(1, o =>
        {
            o.Retry.MinRetriesPerWindow = 2;
            o.Retry.BudgetRatio = 0.1;
        });
        Assert.True(cluster.RetryBudget.TryRetry());
        Assert.True(cluster.RetryBudget.TryRetry());
        Assert.False(cluster.RetryBudget.TryRetry());  // the floor is spent, and there were no requests

        for (var i = 0; i < 40; i++)
        {
            cluster.RetryBudget.RecordRequest();
        }

        Assert.True(cluster.RetryBudget.TryRetry());   // 3 < 0.1 × 40
        Assert.True(cluster.RetryBudget.TryRetry());
        Assert.False(cluster.RetryBudget.TryRetry());  // 4 ≥ 4
        _time.Advance(TimeSpan.FromSeconds(11));       // the window slides on
        Assert.True(cluster.RetryBudget.TryRetry());
    }

    [Fact]
    public void InvalidOptions_AreRejectedNamingTheKey()
    {
        var ex = Assert.Throws<ArgumentException>(() => Cluster(0, o => o.Retry.MaxAttempts = 0));
        Assert.Contains("web:Destinations must have at least one destination", ex.Message, StringComparison.Ordinal);
        Assert.Contains("web:Retry:MaxAttempts must be between 1 and 10 (was 0)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SlowStart_ARecoveringDestinationsShareGrowsOverTheWindow()
    {
        var cluster = Cluster(2, o =>
        {
            o.SlowStartWindow = TimeSpan.FromSeconds(10);
            o.HealthCheck.Passive.ConsecutiveFailures = 1;
            o.HealthCheck.Passive.BaseEjectionTime = TimeSpan.FromSeconds(5);
            o.CircuitBreaker.ConsecutiveFailures = 1000;
        });
        _time.Advance(TimeSpan.FromSeconds(10));                  // past the start-up ramp
        var back = cluster.Destinations[1];
        Assert.True(back.TryAcquire(out var lease));
        back.Report(lease, CallResult.Failure, "502");           // ejected for 5 s
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(back.IsAvailable);                            // back, on probation: the ramp starts

        double Share(int picks)
        {
            var mine = 0;
            for (var i = 0; i < picks; i++)
            {
                var tried = default(TriedDestinations);
                Assert.True(cluster.TryAcquire(ref tried, out var l));
                mine += l.Destination == back ? 1 : 0;
                l.Destination.Report(l, CallResult.Ignored);
            }

            return (double)mine / picks;
        }

        var atStart = Share(300);
        _time.Advance(TimeSpan.FromSeconds(5));
        var halfway = Share(300);
        _time.Advance(TimeSpan.FromSeconds(5));
        var after = Share(300);

        Assert.InRange(atStart, 0, 0.05);
        Assert.InRange(halfway, 0.25, 0.42);                      // weight 0.5 against 1: about a third
        Assert.InRange(after, 0.49, 0.51);                        // a full share again
    }

    [Fact]
    public void SlowStart_Off_ARecoveredDestinationGetsAFullShareAtOnce()
    {
        var cluster = Cluster(2, o => o.HealthCheck.Passive.ConsecutiveFailures = 1);
        var back = cluster.Destinations[1];
        Assert.True(back.TryAcquire(out var lease));
        back.Report(lease, CallResult.Failure, "502");
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, back.SlowStart.Weight);
        var picks = Enumerable.Range(0, 100).Select(_ =>
        {
            var tried = default(TriedDestinations);
            Assert.True(cluster.TryAcquire(ref tried, out var l));
            l.Destination.Report(l, CallResult.Ignored);
            return l.Destination;
        }).Count(d => d == back);
        Assert.Equal(50, picks);
    }

    [Theory]
    [InlineData("Random")]
    [InlineData("PowerOfTwoChoices")]
    public void SeededRandom_RandomPicksRepeat(string policy)
    {
        IEnumerable<string> Picks(int seed)
        {
            var options = new ClusterOptions { LoadBalancing = policy };
            for (var i = 0; i < 5; i++)
            {
                options.Destinations[$"d{i}"] = new DestinationOptions { Address = $"http://127.0.0.1:{9001 + i}" };
            }

            var cluster = new ClusterState("web", options, _time, random: new Random(seed));
            for (var n = 0; n < 50; n++)
            {
                var tried = default(TriedDestinations);
                Assert.True(cluster.TryAcquire(ref tried, out var lease));
                cluster.Destinations.Single(d => d == lease.Destination).Report(lease, CallResult.Success);
                yield return lease.Destination.Id;
            }
        }

        var first = Picks(42).ToList();
        Assert.Equal(first, Picks(42));
        Assert.NotEqual(first, Picks(43));
        Assert.True(first.Distinct().Count() > 1);
    }
}
