using Rampart.CircuitBreaking;

namespace Rampart.Tests.CircuitBreaking;

// One test per edge of the state diagram: Closed → Open → Half-Open → Closed / Open, and Isolated.
public sealed class CircuitBreakerTests
{
    [Fact]
    public void New_Breaker_IsClosedAtGenerationOne()
    {
        var f = new BreakerFixture();
        Assert.Equal(CircuitState.Closed, f.Breaker.State);
        Assert.Equal(1, f.Breaker.Generation);
        Assert.Equal(TimeSpan.Zero, f.Breaker.GetRetryAfter());
    }

    [Fact]
    public void Report_ConsecutiveFailuresReachThreshold_Opens()
    {
        var f = new BreakerFixture();
        f.Fail(2);
        Assert.Equal(CircuitState.Closed, f.Breaker.State);

        f.Fail(1);

        Assert.Equal(CircuitState.Open, f.Breaker.State);
        var t = Assert.Single(f.Transitions);
        Assert.Equal((CircuitState.Closed, CircuitState.Open), (t.From, t.To));
        Assert.Equal("3 consecutive failures: 502", t.Reason);
        Assert.Equal(TimeSpan.FromSeconds(5), t.BreakDuration);
        Assert.Equal(2, t.Generation);
        Assert.Equal(f.Time.GetUtcNow(), t.At);
    }

    [Fact]
    public void Report_SuccessBetweenFailures_ResetsTheConsecutiveCount()
    {
        var f = new BreakerFixture();
        f.Fail(2);
        f.Succeed(1);
        f.Fail(2);

        Assert.Equal(CircuitState.Closed, f.Breaker.State);
        Assert.Equal(2, f.Breaker.ConsecutiveFailures);
    }

    [Fact]
    public void Report_IgnoredInClosed_CountsNothing()
    {
        var f = new BreakerFixture();
        f.Fail(2);
        f.Call(CallResult.Ignored);
        Assert.Equal(2, f.Breaker.ConsecutiveFailures);
        f.Fail(1);
        Assert.Equal(CircuitState.Open, f.Breaker.State);
    }

    [Fact]
    public void TryAcquire_Open_RefusesUntilTheBreakElapses()
    {
        var f = new BreakerFixture();
        f.Fail(3);

        Assert.False(f.Breaker.TryAcquire(out _));
        Assert.Equal(TimeSpan.FromSeconds(5), f.Breaker.GetRetryAfter());
        f.Time.Advance(TimeSpan.FromSeconds(4.999));
        Assert.False(f.Breaker.TryAcquire(out _));
        Assert.Equal(TimeSpan.FromMilliseconds(1), f.Breaker.GetRetryAfter());
        Assert.Single(f.Transitions);
    }

    [Fact]
    public void TryAcquire_OpenAfterTheBreak_HalfOpensAndAdmitsATrial()
    {
        var f = new BreakerFixture();
        f.TripAndWaitOutBreak();

        var permit = f.Acquire();

        Assert.True(permit.IsTrial);
        Assert.Equal(3, permit.Generation);
        Assert.Equal(CircuitState.HalfOpen, f.Breaker.State);
        Assert.Equal((CircuitState.Open, CircuitState.HalfOpen), (f.Transitions[1].From, f.Transitions[1].To));
        Assert.Equal("break of 00:00:05 elapsed", f.Transitions[1].Reason);
    }

    [Fact]
    public void State_ReadAfterTheBreak_HalfOpensLazily()
    {
        var f = new BreakerFixture();
        f.TripAndWaitOutBreak();
        Assert.Single(f.Transitions); // nothing happens on a timer

        Assert.Equal(CircuitState.HalfOpen, f.Breaker.State);
        Assert.Equal(2, f.Transitions.Count);
    }

    [Fact]
    public void TryAcquire_HalfOpen_AdmitsNoMoreThanThePermits()
    {
        var f = new BreakerFixture(o => o.HalfOpenPermits = 2);
        f.TripAndWaitOutBreak();

        var first = f.Acquire();
        var second = f.Acquire();

        Assert.False(f.Breaker.TryAcquire(out _));
        Assert.Null(f.Breaker.GetRetryAfter());
        Assert.True(first.IsTrial && second.IsTrial);
    }

    [Fact]
    public void Report_HalfOpenTrialSucceeds_Closes()
    {
        var f = new BreakerFixture();
        f.TripAndWaitOutBreak();

        f.Call(CallResult.Success);

        Assert.Equal(CircuitState.Closed, f.Breaker.State);
        Assert.Equal((CircuitState.HalfOpen, CircuitState.Closed), (f.Transitions[^1].From, f.Transitions[^1].To));
        Assert.Equal("1 successful trial call", f.Transitions[^1].Reason);
        Assert.Equal(0, f.Breaker.ConsecutiveFailures);
    }

    [Fact]
    public void Report_HalfOpenNeedsSeveralSuccesses_ClosesOnlyAtTheLast()
    {
        var f = new BreakerFixture(o => o.SuccessesToClose = 3);
        f.TripAndWaitOutBreak();

        f.Succeed(2);
        Assert.Equal(CircuitState.HalfOpen, f.Breaker.State);
        f.Succeed(1);

        Assert.Equal(CircuitState.Closed, f.Breaker.State);
        Assert.Equal("3 successful trial calls", f.Transitions[^1].Reason);
    }

    [Fact]
    public void Report_HalfOpenTrialFails_ReopensWithALongerBreak()
    {
        var f = new BreakerFixture();
        f.TripAndWaitOutBreak();

        f.Call(CallResult.Failure, "connection refused");

        Assert.Equal(CircuitState.Open, f.Breaker.State);
        var t = f.Transitions[^1];
        Assert.Equal((CircuitState.HalfOpen, CircuitState.Open), (t.From, t.To));
        Assert.Equal("trial call failed: connection refused", t.Reason);
        Assert.Equal(TimeSpan.FromSeconds(10), t.BreakDuration);
        f.Time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(f.Breaker.TryAcquire(out _));
        f.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(f.Breaker.TryAcquire(out _));
    }

    [Fact]
    public void Report_RepeatedReTrips_GrowTheBreakUpToTheCap()
    {
        var f = new BreakerFixture();
        f.Fail(3);
        var breaks = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            f.Time.Advance(f.Transitions[^1].BreakDuration);
            f.Call(CallResult.Failure);
            breaks.Add(f.Transitions[^1].BreakDuration);
        }

        Assert.Equal([10, 20, 30, 30, 30], breaks.Select(b => b.TotalSeconds));
    }

    [Fact]
    public void Report_ClosingAfterReTrips_ResetsTheBreakGrowth()
    {
        var f = new BreakerFixture();
        f.TripAndWaitOutBreak();
        f.Call(CallResult.Failure);             // re-trip: 10 s
        f.Time.Advance(TimeSpan.FromSeconds(10));
        f.Call(CallResult.Success);             // closes

        f.Fail(3);

        Assert.Equal(TimeSpan.FromSeconds(5), f.Transitions[^1].BreakDuration);
    }

    [Fact]
    public void Report_HalfOpenTrialIgnored_ReleasesThePermitWithoutCounting()
    {
        var f = new BreakerFixture(o => o.SuccessesToClose = 2);
        f.TripAndWaitOutBreak();

        f.Call(CallResult.Ignored);
        f.Call(CallResult.Success);
        Assert.Equal(CircuitState.HalfOpen, f.Breaker.State);
        f.Call(CallResult.Success);

        Assert.Equal(CircuitState.Closed, f.Breaker.State);
    }

    [Fact]
    public void TryAcquire_HalfOpenTrialNeverReports_ReopensAfterTheTrialTimeout()
    {
        var f = new BreakerFixture(o => o.HalfOpenTrialTimeout = TimeSpan.FromSeconds(20));
        f.TripAndWaitOutBreak();
        var lost = f.Acquire();

        f.Time.Advance(TimeSpan.FromSeconds(19));
        Assert.False(f.Breaker.TryAcquire(out _));
        Assert.Equal(CircuitState.HalfOpen, f.Breaker.State);
        f.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(f.Breaker.TryAcquire(out _));

        Assert.Equal(CircuitState.Open, f.Breaker.State);
        Assert.Equal("trial call did not report within 00:00:20", f.Transitions[^1].Reason);
        Assert.Equal(TimeSpan.FromSeconds(10), f.Transitions[^1].BreakDuration);
        f.Breaker.Report(lost, CallResult.Success); // too late: its generation is over
        Assert.Equal(CircuitState.Open, f.Breaker.State);
    }

    [Theory]
    [InlineData(0)] // Closed
    [InlineData(1)] // Open
    [InlineData(2)] // Half-Open
    public void Isolate_AnyState_IsolatesUntilReset(int setup)
    {
        var f = new BreakerFixture();
        if (setup >= 1)
        {
            f.Fail(3);
        }

        if (setup == 2)
        {
            f.Time.Advance(TimeSpan.FromSeconds(5));
            _ = f.Breaker.State;
        }

        f.Breaker.Isolate("by admin");
        f.Time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(CircuitState.Isolated, f.Breaker.State);
        Assert.False(f.Breaker.TryAcquire(out _));
        Assert.Null(f.Breaker.GetRetryAfter());
        Assert.Equal("by admin", f.Transitions[^1].Reason);

        f.Breaker.Reset("by admin");

        Assert.Equal(CircuitState.Closed, f.Breaker.State);
        Assert.Equal((CircuitState.Isolated, CircuitState.Closed), (f.Transitions[^1].From, f.Transitions[^1].To));
        Assert.True(f.Breaker.TryAcquire(out _));
    }

    [Fact]
    public void Isolate_AlreadyIsolated_ChangesNothing()
    {
        var f = new BreakerFixture();
        f.Breaker.Isolate();
        f.Breaker.Isolate();
        Assert.Single(f.Transitions);
        Assert.Equal("isolated", f.Transitions[0].Reason);
    }

    [Fact]
    public void Reset_Open_ClosesAndForgetsTheBreakGrowth()
    {
        var f = new BreakerFixture();
        f.TripAndWaitOutBreak();
        f.Call(CallResult.Failure); // 10 s break

        f.Breaker.Reset();
        f.Fail(3);

        Assert.Equal("reset", f.Transitions[^2].Reason);
        Assert.Equal(TimeSpan.FromSeconds(5), f.Transitions[^1].BreakDuration);
    }

    [Fact]
    public void Reset_Closed_ClearsCountsWithoutATransition()
    {
        var f = new BreakerFixture();
        f.Fail(2);
        f.Breaker.Reset();
        f.Fail(2);
        Assert.Equal(CircuitState.Closed, f.Breaker.State);
        Assert.Empty(f.Transitions);
    }

    [Fact]
    public void Transitions_EachStateChange_BumpsTheGenerationByOne()
    {
        var f = new BreakerFixture();
        f.TripAndWaitOutBreak();
        f.Call(CallResult.Failure);
        f.Time.Advance(TimeSpan.FromSeconds(10));
        f.Call(CallResult.Success);
        f.Breaker.Isolate();
        f.Breaker.Reset();

        Assert.Equal([2L, 3, 4, 5, 6, 7, 8], f.Transitions.Select(t => t.Generation));
        Assert.Equal(8, f.Breaker.Generation);
        for (var i = 1; i < f.Transitions.Count; i++)
        {
            Assert.Equal(f.Transitions[i - 1].To, f.Transitions[i].From);
        }
    }

    [Fact]
    public void Default_Permit_ReportsIntoNothing()
    {
        var f = new BreakerFixture(o => o.ConsecutiveFailures = 1);
        f.Breaker.Report(default, CallResult.Failure);
        Assert.Equal(CircuitState.Closed, f.Breaker.State);
    }

    [Fact]
    public void StateChanged_HandlerRunsOutsideTheLock()
    {
        var f = new BreakerFixture();
        var seenFromAnotherThread = CircuitState.Closed;
        // If the handler ran under the breaker's lock, another thread could not take it: this would time out.
        f.Breaker.StateChanged += _ =>
            Assert.True(Task.Run(() => { f.Breaker.Isolate(); seenFromAnotherThread = f.Breaker.State; })
                .Wait(TimeSpan.FromSeconds(30)));

        f.Fail(3);

        Assert.Equal(CircuitState.Isolated, seenFromAnotherThread);
    }
}
