using Rampart.CircuitBreaking;

namespace Rampart.Tests.CircuitBreaking;

// The trip policies: consecutive failures (in CircuitBreakerTests), failure ratio over a window, slow calls.
public sealed class TripPolicyTests
{
    private static BreakerFixture RatioBreaker(Action<CircuitBreakerOptions>? more = null) => new(o =>
    {
        o.ConsecutiveFailures = 0;
        o.FailureRatio = 0.5;
        o.MinimumThroughput = 10;
        o.SamplingDuration = TimeSpan.FromSeconds(10);
        more?.Invoke(o);
    });

    [Fact]
    public void Report_FailureRatioReachedWithMinimumThroughput_Opens()
    {
        var f = RatioBreaker();
        f.Succeed(5);
        f.Fail(4);
        Assert.Equal(CircuitState.Closed, f.Breaker.State); // 9 calls: under the minimum throughput

        f.Fail(1);

        Assert.Equal(CircuitState.Open, f.Breaker.State);
        Assert.Equal("failure ratio 0.50 ≥ 0.50 over 10 calls: 502", f.Transitions[0].Reason);
    }

    [Fact]
    public void Report_FailureRatioBelowThreshold_StaysClosed()
    {
        var f = RatioBreaker();
        for (var i = 0; i < 20; i++)
        {
            f.Succeed(2);
            f.Fail(1);
        }

        Assert.Equal(CircuitState.Closed, f.Breaker.State);
    }

    [Fact]
    public void Report_FailuresOlderThanTheWindow_NoLongerCount()
    {
        var f = RatioBreaker();
        f.Fail(9);                                  // 9 of 9: under the minimum
        f.Time.Advance(TimeSpan.FromSeconds(11));   // they slide out
        f.Succeed(9);

        f.Fail(1);                                  // 1 of 10

        Assert.Equal(CircuitState.Closed, f.Breaker.State);
    }

    [Fact]
    public void Report_FailuresWithinTheWindow_StillCount()
    {
        var f = RatioBreaker();
        f.Fail(5);
        f.Time.Advance(TimeSpan.FromSeconds(8));
        f.Succeed(4);

        f.Fail(1);                                  // 6 of 10, all within 10 s

        Assert.Equal(CircuitState.Open, f.Breaker.State);
    }

    [Fact]
    public void Report_BothPoliciesOn_EitherTrips()
    {
        var f = RatioBreaker(o => o.ConsecutiveFailures = 3);
        f.Succeed(20);
        f.Fail(3);                                  // ratio 3/23, but 3 in a row
        Assert.Equal(CircuitState.Open, f.Breaker.State);
        Assert.StartsWith("3 consecutive failures", f.Transitions[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_ClosingAfterATrip_StartsAFreshWindow()
    {
        var f = RatioBreaker();
        f.Fail(10);
        f.Time.Advance(TimeSpan.FromSeconds(5));
        f.Call(CallResult.Success);                 // trial closes it

        f.Fail(1);                                  // would be 11 of 11 with the old window

        Assert.Equal(CircuitState.Closed, f.Breaker.State);
    }

    [Fact]
    public void Report_SuccessSlowerThanTheThreshold_CountsAsAFailure()
    {
        var f = new BreakerFixture(o => o.SlowCallThreshold = TimeSpan.FromSeconds(1));
        for (var i = 0; i < 3; i++)
        {
            var permit = f.Acquire();
            f.Time.Advance(TimeSpan.FromSeconds(1));
            f.Breaker.Report(permit, CallResult.Success);
        }

        Assert.Equal(CircuitState.Open, f.Breaker.State);
        Assert.Equal("3 consecutive failures: slow call 00:00:01 ≥ 00:00:01", f.Transitions[0].Reason);
    }

    [Fact]
    public void Report_SuccessFasterThanTheThreshold_IsASuccess()
    {
        var f = new BreakerFixture(o => o.SlowCallThreshold = TimeSpan.FromSeconds(1));
        f.Fail(2);
        var permit = f.Acquire();
        f.Time.Advance(TimeSpan.FromMilliseconds(999));
        f.Breaker.Report(permit, CallResult.Success);
        Assert.Equal(0, f.Breaker.ConsecutiveFailures);
    }

    [Fact]
    public void Report_SlowTrialCall_Reopens()
    {
        var f = new BreakerFixture(o => o.SlowCallThreshold = TimeSpan.FromSeconds(1));
        f.TripAndWaitOutBreak();
        var trial = f.Acquire();
        f.Time.Advance(TimeSpan.FromSeconds(2));
        f.Breaker.Report(trial, CallResult.Success);
        Assert.Equal(CircuitState.Open, f.Breaker.State);
        Assert.StartsWith("trial call failed: slow call", f.Transitions[^1].Reason, StringComparison.Ordinal);
    }
}
