using Rampart.CircuitBreaking;

namespace Rampart.Tests.CircuitBreaking;

// The generation rule: a result reported with an older generation changes nothing.
public sealed class StaleResultTests
{
    [Fact]
    public void Report_AdmittedClosedReportsAfterOpenAndHalfOpen_ChangesNothing()
    {
        var f = new BreakerFixture();
        var late = f.Acquire();                     // admitted while Closed, generation 1
        f.TripAndWaitOutBreak();
        var trial = f.Acquire();                    // Half-Open now, generation 3
        var transitions = f.Transitions.Count;

        f.Breaker.Report(late, CallResult.Failure); // would re-open a Half-Open breaker
        f.Breaker.Report(late, CallResult.Success); // would close it

        Assert.Equal(CircuitState.HalfOpen, f.Breaker.State);
        Assert.Equal(transitions, f.Transitions.Count);
        Assert.False(f.Breaker.TryAcquire(out _)); // the trial's permit is still taken
        f.Breaker.Report(trial, CallResult.Success);
        Assert.Equal(CircuitState.Closed, f.Breaker.State);
    }

    [Fact]
    public void Report_AdmittedClosedReportsAfterTheBreakerClosedAgain_ChangesNothing()
    {
        var f = new BreakerFixture(o => o.ConsecutiveFailures = 1);
        var late = f.Acquire();
        f.Fail(1);
        f.Time.Advance(TimeSpan.FromSeconds(5));
        f.Call(CallResult.Success);                 // Closed again, generation 4
        Assert.Equal(CircuitState.Closed, f.Breaker.State);

        f.Breaker.Report(late, CallResult.Failure); // would trip with ConsecutiveFailures = 1

        Assert.Equal(CircuitState.Closed, f.Breaker.State);
        Assert.Equal(0, f.Breaker.ConsecutiveFailures);
    }

    [Fact]
    public void Report_TrialFromAnEarlierHalfOpen_ChangesNothing()
    {
        var f = new BreakerFixture(o => o.HalfOpenPermits = 2);
        f.TripAndWaitOutBreak();
        var slowTrial = f.Acquire();
        f.Call(CallResult.Failure);                 // re-opens: generation moves on
        f.Time.Advance(TimeSpan.FromSeconds(10));
        var newTrial = f.Acquire();

        f.Breaker.Report(slowTrial, CallResult.Success);

        Assert.Equal(CircuitState.HalfOpen, f.Breaker.State);
        Assert.True(f.Breaker.TryAcquire(out _));   // the old trial did not free a permit of this generation
        Assert.False(f.Breaker.TryAcquire(out _));
        f.Breaker.Report(newTrial, CallResult.Success);
        Assert.Equal(CircuitState.Closed, f.Breaker.State);
    }
}
