using Rampart.CircuitBreaking;
using Rampart.Destinations;
using Rampart.Health;
using static Rampart.Tests.Destinations.DestinationFixture;

namespace Rampart.Tests.Destinations;

public sealed class DestinationStateTests
{
    [Fact]
    public void BreakerTransitions_AreJournaledAsCircuitChanges()
    {
        var f = new DestinationFixture(health: h => h.Passive.Enabled = false, breaker: b => b.ConsecutiveFailures = 2);
        f.Request(f.A, CallResult.Failure, times: 2);

        var t = Assert.Single(f.A.GetTransitions());
        Assert.Equal((HealthSignal.Circuit, "Closed", "Open"), (t.Signal, t.From.ToString(), t.To.ToString()));
        Assert.Equal("2 consecutive failures: 502", t.Reason);
        Assert.False(f.A.IsAvailable);
        Assert.Equal(2, f.A.Generation);
    }

    [Fact]
    public void EveryChange_BumpsTheGenerationByOne_AndIsRaised()
    {
        var f = new DestinationFixture(breaker: b => b.ConsecutiveFailures = 5);
        f.Probe(f.A, Pass);                                 // Active: Unknown → Healthy
        f.Request(f.A, CallResult.Failure, times: 3);       // Passive: Healthy → Ejected
        f.Time.Advance(TimeSpan.FromSeconds(10));
        _ = f.A.IsAvailable;                                // Passive: Ejected → Probation
        f.A.Breaker.Isolate("by admin");                    // Circuit: Closed → Isolated

        Assert.Equal([2L, 3, 4, 5], f.Transitions.Select(t => t.Generation));
        Assert.Equal(
            [HealthSignal.Active, HealthSignal.Passive, HealthSignal.Passive, HealthSignal.Circuit],
            f.Transitions.Select(t => t.Signal));
        Assert.Equal(f.Transitions, f.A.GetTransitions());
        Assert.Equal(5, f.A.Generation);
    }

    [Fact]
    public void Journal_KeepsTheLatest32()
    {
        var f = new DestinationFixture();
        for (var i = 0; i < 20; i++)
        {
            f.A.Breaker.Isolate($"isolate {i}");
            f.A.Breaker.Reset($"reset {i}");
        }

        var journal = f.A.GetTransitions();
        Assert.Equal(32, journal.Count);
        Assert.Equal("isolate 4", journal[0].Reason);
        Assert.Equal("reset 19", journal[^1].Reason);
    }

    [Fact]
    public void Counters_CountRequestsFailuresAndInFlight()
    {
        var f = new DestinationFixture(health: h => h.Passive.Enabled = false);
        Assert.True(f.A.TryAcquire(out var open));
        f.Request(f.A, CallResult.Success, times: 3);
        f.Request(f.A, CallResult.Failure, times: 2);

        Assert.Equal((6L, 2L, 1), (f.A.Requests, f.A.Failures, f.A.InFlight));
        f.A.Report(open, CallResult.Success);
        Assert.Equal(0, f.A.InFlight);
    }

    [Fact]
    public void StaleHalfOpenTrial_StillReleasesItsPermit()
    {
        var f = new DestinationFixture(health: h => h.Passive.Enabled = false, breaker: b => b.ConsecutiveFailures = 1);
        f.Request(f.A, CallResult.Failure);
        f.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(f.A.TryAcquire(out var trial));        // Half-Open, 1 permit: taken
        f.Probe(f.A, Pass);                                 // another signal changes: the trial is stale

        f.A.Report(trial, CallResult.Success);

        Assert.Equal(CircuitState.HalfOpen, f.A.Breaker.State); // not closed by a stale result...
        Assert.True(f.A.TryAcquire(out _));                 // ...but its permit is free again
    }

    [Fact]
    public void Reset_ClearsAnEjectionAndTheBreaker()
    {
        var f = new DestinationFixture(breaker: b => b.ConsecutiveFailures = 3);
        f.Request(f.A, CallResult.Failure, times: 3);      // ejected and open

        f.A.Reset("by admin");

        Assert.Equal(PassiveHealthState.Healthy, f.A.PassiveHealth);
        Assert.Equal(CircuitState.Closed, f.A.Breaker.State);
        Assert.True(f.A.IsAvailable);
        Assert.Equal(0, f.Budget.Ejected);
        Assert.All(f.Transitions.TakeLast(2), t => Assert.Equal("by admin", t.Reason));
    }
}
