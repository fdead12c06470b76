using Rampart.CircuitBreaking;
using Rampart.Health;

namespace Rampart.Tests.Destinations;

/// <summary>
/// Recovery follows the probes: once a destination passes HealthyThreshold probes after it was taken out, it takes
/// traffic again at once, whatever the multiplied ejection time or break duration says.
/// </summary>
public sealed class RecoveryTests
{
    [Fact]
    public void Flapped_EjectedForALongTime_ProbesPassing_BackOnProbationAfterHealthyThresholdPasses()
    {
        var f = new DestinationFixture(health: h =>
        {
            h.Active.HealthyThreshold = 2;
            h.Passive.MaxEjectionTime = TimeSpan.FromMinutes(5);
        });
        f.Probe(f.A, DestinationFixture.Pass, times: 2); // Healthy, and stays so: the flaps are too short for the probes to see
        for (var flap = 0; flap < 3; flap++)
        {
            // Ejected for 10 s, then (one failure on probation) 20 s, then 30 s.
            f.Request(f.A, CallResult.Failure, times: flap == 0 ? 3 : 1);
            Assert.Equal(PassiveHealthState.Ejected, f.A.PassiveHealth);
            f.Probe(f.A, DestinationFixture.Pass, times: 2);
        }

        Assert.Equal(3, f.A.Ejections);
        Assert.Equal(PassiveHealthState.Probation, f.A.PassiveHealth); // no time passed: the probes brought it back each time
        Assert.True(f.A.IsAvailable);
        Assert.Equal("2 probe passes since it failed: on probation", f.Transitions[^1].Reason);
    }

    [Fact]
    public void Ejected_OneProbePass_NotYet_AndTheNextProbeComesAtOnce()
    {
        var f = new DestinationFixture(health: h => h.Active.HealthyThreshold = 3);
        f.Probe(f.A, DestinationFixture.Pass, times: 3);
        f.Request(f.A, CallResult.Failure, times: 3);
        Assert.True(f.A.ProbeSoon); // out: probed at the shorter interval though its probes never failed
        Assert.False(f.A.ProbeAgainAtOnce);

        f.Probe(f.A, DestinationFixture.Pass, times: 2);

        Assert.Equal(PassiveHealthState.Ejected, f.A.PassiveHealth);
        Assert.True(f.A.ProbeAgainAtOnce);
        f.Probe(f.A, DestinationFixture.Pass);
        Assert.Equal(PassiveHealthState.Probation, f.A.PassiveHealth);
        Assert.False(f.A.ProbeAgainAtOnce);
    }

    [Fact]
    public void Ejected_AProbeFailsOnTheWayBack_CountStartsOver()
    {
        var f = new DestinationFixture(health: h => h.Active.HealthyThreshold = 2);
        f.Probe(f.A, DestinationFixture.Pass, times: 2);
        f.Request(f.A, CallResult.Failure, times: 3);

        f.Probe(f.A, DestinationFixture.Pass);
        f.Probe(f.A, DestinationFixture.Fail());
        f.Probe(f.A, DestinationFixture.Pass);

        Assert.Equal(PassiveHealthState.Ejected, f.A.PassiveHealth);
        f.Probe(f.A, DestinationFixture.Pass);
        Assert.Equal(PassiveHealthState.Probation, f.A.PassiveHealth);
    }

    [Fact]
    public void BreakerOpenForAMinute_ProbesPass_HalfOpenAtOnce_AFailedTrialOpensItAgain_ProbesEndThatBreakToo()
    {
        var f = new DestinationFixture(
            health: h => h.Active.HealthyThreshold = 2,
            breaker: b =>
            {
                b.ConsecutiveFailures = 2;
                b.BreakDuration = TimeSpan.FromMinutes(1);
                b.MaxBreakDuration = TimeSpan.FromMinutes(10);
            });
        f.Probe(f.A, DestinationFixture.Pass, times: 2);
        f.Request(f.A, CallResult.Failure, times: 2);
        Assert.Equal(CircuitState.Open, f.A.Breaker.State);

        f.Probe(f.A, DestinationFixture.Pass, times: 2);

        Assert.Equal(CircuitState.HalfOpen, f.A.Breaker.State);
        Assert.Equal("2 probe passes since it failed: trial calls", f.Transitions[^1].Reason);
        f.Request(f.A, CallResult.Failure); // the trial fails: open again, for two minutes
        Assert.Equal(CircuitState.Open, f.A.Breaker.State);
        f.Probe(f.A, DestinationFixture.Pass);
        Assert.Equal(CircuitState.Open, f.A.Breaker.State);
        f.Probe(f.A, DestinationFixture.Pass);
        Assert.Equal(CircuitState.HalfOpen, f.A.Breaker.State);
        f.Request(f.A, CallResult.Success);
        Assert.Equal(CircuitState.Closed, f.A.Breaker.State);
    }

    [Fact]
    public void NoProbes_EjectionRunsItsTime()
    {
        var f = new DestinationFixture(health: h => h.Active.Enabled = false);
        f.Request(f.A, CallResult.Failure, times: 3);

        f.Time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.Equal(PassiveHealthState.Ejected, f.A.PassiveHealth);
        f.Time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(PassiveHealthState.Probation, f.A.PassiveHealth);
    }

    [Fact]
    public void Reset_ForgetsEveryCount_OneFailureAfterItDoesNotEject()
    {
        var f = new DestinationFixture();
        f.Request(f.A, CallResult.Failure, times: 2); // one short of ejection (3)

        f.A.Reset("reset by admin");
        f.Request(f.A, CallResult.Failure);

        Assert.Equal(PassiveHealthState.Healthy, f.A.PassiveHealth);
        Assert.True(f.A.IsAvailable);
    }
}
