using Rampart.CircuitBreaking;
using Rampart.Health;
using Rampart.Tests.Destinations;

namespace Rampart.Tests.Health;

public sealed class PassiveHealthTests
{
    [Fact]
    public void Report_ConsecutiveFailures_Eject()
    {
        var f = new DestinationFixture();
        f.Request(f.A, CallResult.Failure, times: 2);
        Assert.Equal(PassiveHealthState.Healthy, f.A.PassiveHealth);

        f.Request(f.A, CallResult.Failure);

        Assert.Equal(PassiveHealthState.Ejected, f.A.PassiveHealth);
        Assert.False(f.A.IsAvailable);
        Assert.False(f.A.TryAcquire(out _));
        Assert.Equal("ejected for 00:00:10 (1st ejection): 3 consecutive failures: 502", f.Transitions[^1].Reason);
        Assert.Equal(1, f.Budget.Ejected);
    }

    [Fact]
    public void Report_SuccessBetweenFailures_RestartsTheCount()
    {
        var f = new DestinationFixture();
        f.Request(f.A, CallResult.Failure, times: 2);
        f.Request(f.A, CallResult.Success);
        f.Request(f.A, CallResult.Failure, times: 2);
        Assert.Equal(PassiveHealthState.Healthy, f.A.PassiveHealth);
    }

    [Fact]
    public void Report_ClientAborts_AreNeverTheDestinationsFailure()
    {
        var f = new DestinationFixture();
        f.Request(f.A, CallResult.Ignored, times: 50);

        Assert.Equal(PassiveHealthState.Healthy, f.A.PassiveHealth);
        Assert.Equal(0, f.A.Failures);
        Assert.Equal(50, f.A.Requests);
        Assert.Equal(0, f.A.InFlight);
    }

    [Fact]
    public void Ejection_TimeUp_PutsTheDestinationOnProbation()
    {
        var f = new DestinationFixture();
        f.Request(f.A, CallResult.Failure, times: 3);
        f.Time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.False(f.A.IsAvailable);

        f.Time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.True(f.A.IsAvailable);
        Assert.Equal(PassiveHealthState.Probation, f.A.PassiveHealth);
        Assert.Equal("ejection time over: on probation", f.Transitions[^1].Reason);
        Assert.Equal(0, f.Budget.Ejected);
    }

    [Fact]
    public void Probation_EnoughSuccesses_Restore()
    {
        var f = new DestinationFixture(health: h => h.Passive.SuccessesToRestore = 3);
        f.Request(f.A, CallResult.Failure, times: 3);
        f.Time.Advance(TimeSpan.FromSeconds(10));
        f.Request(f.A, CallResult.Success, times: 2);
        Assert.Equal(PassiveHealthState.Probation, f.A.PassiveHealth);

        f.Request(f.A, CallResult.Success);

        Assert.Equal(PassiveHealthState.Healthy, f.A.PassiveHealth);
        Assert.Equal("3 consecutive successes on probation", f.Transitions[^1].Reason);
    }

    [Fact]
    public void Probation_OneFailure_EjectsAgainForLonger()
    {
        var f = new DestinationFixture();
        f.Request(f.A, CallResult.Failure, times: 3);
        f.Time.Advance(TimeSpan.FromSeconds(10));

        f.Request(f.A, CallResult.Failure, detail: "connection refused");

        Assert.Equal(PassiveHealthState.Ejected, f.A.PassiveHealth);
        Assert.Equal("ejected for 00:00:20 (2nd ejection): failed on probation: connection refused", f.Transitions[^1].Reason);
        f.Time.Advance(TimeSpan.FromSeconds(19));
        Assert.False(f.A.IsAvailable);
        f.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(f.A.IsAvailable);
    }

    [Fact]
    public void Ejection_Repeated_GrowsUpToTheCap()
    {
        var f = new DestinationFixture(); // base 10 s, max 25 s
        var lengths = new List<string>();
        f.Request(f.A, CallResult.Failure, times: 3);
        lengths.Add(f.Transitions[^1].Reason[..23]);
        for (var i = 0; i < 3; i++)
        {
            f.Time.Advance(TimeSpan.FromSeconds(30));
            f.Request(f.A, CallResult.Failure);
            lengths.Add(f.Transitions[^1].Reason[..23]);
        }

        Assert.Equal(["ejected for 00:00:10 (1", "ejected for 00:00:20 (2", "ejected for 00:00:25 (3", "ejected for 00:00:25 (4"], lengths);
    }

    [Fact]
    public void Ejection_AfterStayingHealthyForMaxEjectionTime_StartsOverAtTheBase()
    {
        var f = new DestinationFixture(health: h => h.Passive.SuccessesToRestore = 1);
        f.Request(f.A, CallResult.Failure, times: 3);
        f.Time.Advance(TimeSpan.FromSeconds(10));
        f.Request(f.A, CallResult.Success);           // restored
        f.Time.Advance(TimeSpan.FromSeconds(25));     // healthy for MaxEjectionTime

        f.Request(f.A, CallResult.Failure, times: 3);

        Assert.StartsWith("ejected for 00:00:10 (1st ejection)", f.Transitions[^1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_FailureRateOverTheWindow_Ejects()
    {
        var f = new DestinationFixture(health: h =>
        {
            h.Passive.ConsecutiveFailures = 0;
            h.Passive.FailureRate = 0.3;
            h.Passive.MinimumRequests = 10;
        });
        for (var i = 0; i < 3; i++)
        {
            f.Request(f.A, CallResult.Success, times: 2);
            f.Request(f.A, CallResult.Failure);
        }

        Assert.Equal(PassiveHealthState.Healthy, f.A.PassiveHealth); // 9 requests: too few
        f.Request(f.A, CallResult.Success);
        f.Request(f.A, CallResult.Failure);                            // 4 of 11

        Assert.Equal(PassiveHealthState.Ejected, f.A.PassiveHealth);
        Assert.Contains("failure rate 0.36 ≥ 0.30 over 11 requests: 502", f.Transitions[^1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MaxEjectionPercent_CapsTheShareOfTheClusterEjected()
    {
        var f = new DestinationFixture(destinations: 3, health: h => h.Passive.MaxEjectionPercent = 50);
        f.Request(f.All[0], CallResult.Failure, times: 3);
        f.Request(f.All[1], CallResult.Failure, times: 3);

        Assert.Equal(PassiveHealthState.Ejected, f.All[0].PassiveHealth);
        Assert.Equal(PassiveHealthState.Healthy, f.All[1].PassiveHealth); // 2 of 3 would be over 50 %
        Assert.Equal(1, f.All[1].RefusedEjections);
        Assert.True(f.All[1].IsAvailable);

        f.Time.Advance(TimeSpan.FromSeconds(10));                          // the first ends its ejection
        Assert.True(f.All[0].IsAvailable);
        f.Request(f.All[1], CallResult.Failure, times: 3);
        Assert.Equal(PassiveHealthState.Ejected, f.All[1].PassiveHealth);
    }

    [Fact]
    public void Report_RequestAdmittedBeforeTheEjection_DoesNotCount()
    {
        var f = new DestinationFixture(health: h => h.Passive.SuccessesToRestore = 1);
        Assert.True(f.A.TryAcquire(out var late));
        f.Request(f.A, CallResult.Failure, times: 3);   // ejected
        f.Time.Advance(TimeSpan.FromSeconds(10));       // on probation

        f.A.Report(late, CallResult.Failure, "502");     // would eject it again on probation

        Assert.Equal(PassiveHealthState.Probation, f.A.PassiveHealth);
        Assert.Equal(4, f.A.Failures);                  // still a failure in the traffic counters
        Assert.Equal(0, f.A.InFlight);
    }

    [Fact]
    public void Disabled_PassiveChecking_NeverEjects()
    {
        var f = new DestinationFixture(health: h => h.Passive.Enabled = false);
        f.Request(f.A, CallResult.Failure, times: 20);
        Assert.Equal(PassiveHealthState.Healthy, f.A.PassiveHealth);
    }

    [Fact]
    public void PassiveHealthOptions_Nonsense_IsRejectedNamingTheKey()
    {
        var options = new PassiveHealthOptions
        {
            ConsecutiveFailures = -1,
            FailureRate = 2,
            MinimumRequests = 0,
            BaseEjectionTime = TimeSpan.Zero,
            MaxEjectionTime = TimeSpan.FromSeconds(-1),
            MaxEjectionPercent = 101,
            SuccessesToRestore = 0,
        };

        var errors = options.Validate("P");

        Assert.Equal(
        [
            "P:ConsecutiveFailures must be 0 (off) or at least 1 (was -1)",
            "P:FailureRate must be between 0 (off) and 1 (was 2)",
            "P:MinimumRequests must be at least 1 (was 0)",
            "P:BaseEjectionTime must be positive (was 00:00:00)",
            "P:MaxEjectionTime must be at least BaseEjectionTime (was -00:00:01)",
            "P:MaxEjectionPercent must be between 0 and 100 (was 101)",
            "P:SuccessesToRestore must be at least 1 (was 0)",
        ], errors);
    }

    [Fact]
    public void ActiveRecovery_EndsAnEjectionEarly()
    {
        var f = new DestinationFixture(health: h => h.Active.HealthyThreshold = 1);
        f.Probe(f.A, DestinationFixture.Fail(), times: 2);   // Unhealthy
        f.A.ReportProbe(f.A.Generation, DestinationFixture.Pass);
        f.Request(f.A, CallResult.Failure, times: 3);          // ejected for 10 s
        f.Probe(f.A, DestinationFixture.Fail(), times: 2);   // Unhealthy again (the backend died)

        f.Probe(f.A, DestinationFixture.Pass);                 // it came back

        Assert.Equal(PassiveHealthState.Probation, f.A.PassiveHealth);
        Assert.True(f.A.IsAvailable);
        Assert.Equal("1 probe pass since it failed: on probation", f.Transitions[^1].Reason);
        Assert.Equal(0, f.Budget.Ejected);
    }
}
