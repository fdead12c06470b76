using Rampart.Health;
using Rampart.Tests.Destinations;
using static Rampart.Tests.Destinations.DestinationFixture;

namespace Rampart.Tests.Health;

public sealed class ActiveHealthTests
{
    [Fact]
    public void New_Destination_IsUnknownAndAvailable()
    {
        var f = new DestinationFixture();
        Assert.Equal(ActiveHealthState.Unknown, f.A.ActiveHealth);
        Assert.True(f.A.IsAvailable);
        Assert.Null(f.A.LastProbe);
    }

    [Fact]
    public void New_DestinationWithWaitForFirstProbe_IsUnavailableUntilAProbePasses()
    {
        var f = new DestinationFixture(health: h => h.Active.WaitForFirstProbe = true);
        Assert.False(f.A.IsAvailable);
        Assert.False(f.A.TryAcquire(out _));

        f.Probe(f.A, Pass);

        Assert.True(f.A.IsAvailable);
    }

    [Fact]
    public void ReportProbe_FirstPass_MakesHealthyAtOnce()
    {
        var f = new DestinationFixture();
        f.Probe(f.A, Pass);
        Assert.Equal(ActiveHealthState.Healthy, f.A.ActiveHealth);
        Assert.Equal("first probe passed: 200", f.Transitions[0].Reason);
        Assert.Equal(f.Time.GetUtcNow(), f.A.LastProbe!.Value.At);
    }

    [Fact]
    public void ReportProbe_FirstFailures_MakeUnhealthyOnlyAtTheThreshold()
    {
        var f = new DestinationFixture(health: h => h.Active.UnhealthyThreshold = 2);
        f.Probe(f.A, Fail());
        Assert.Equal(ActiveHealthState.Unknown, f.A.ActiveHealth); // one slow first probe does not take it out
        Assert.True(f.A.IsAvailable);

        f.Probe(f.A, Fail());

        Assert.Equal(ActiveHealthState.Unhealthy, f.A.ActiveHealth);
        Assert.False(f.A.IsAvailable);
        Assert.Equal("2 consecutive probe failures: connection refused", f.Transitions[0].Reason);
    }

    [Fact]
    public void ReportProbe_HealthyFailsUnhealthyThresholdTimes_BecomesUnhealthy()
    {
        var f = new DestinationFixture(health: h => h.Active.UnhealthyThreshold = 3);
        f.Probe(f.A, Pass);
        f.Probe(f.A, Fail(), times: 2);
        Assert.Equal(ActiveHealthState.Healthy, f.A.ActiveHealth);
        Assert.True(f.A.IsAvailable);
        Assert.True(f.A.ProbeSoon); // changing: probe at the shorter interval

        f.Probe(f.A, Fail());

        Assert.Equal(ActiveHealthState.Unhealthy, f.A.ActiveHealth);
        Assert.False(f.A.IsAvailable);
        Assert.Equal("3 consecutive probe failures: connection refused", f.Transitions[^1].Reason);
    }

    [Fact]
    public void ReportProbe_PassBetweenFailures_RestartsTheCount()
    {
        var f = new DestinationFixture(health: h => h.Active.UnhealthyThreshold = 2);
        f.Probe(f.A, Pass);
        f.Probe(f.A, Fail());
        f.Probe(f.A, Pass);
        f.Probe(f.A, Fail());
        Assert.Equal(ActiveHealthState.Healthy, f.A.ActiveHealth);
        Assert.True(f.A.ProbeSoon); // a failure just seen
    }

    [Fact]
    public void ReportProbe_UnhealthyPassesHealthyThresholdTimes_BecomesHealthy()
    {
        var f = new DestinationFixture(health: h => h.Active.HealthyThreshold = 2);
        f.Probe(f.A, Fail(), times: 2);
        f.Probe(f.A, Pass);
        Assert.Equal(ActiveHealthState.Unhealthy, f.A.ActiveHealth);

        f.Probe(f.A, Pass);

        Assert.Equal(ActiveHealthState.Healthy, f.A.ActiveHealth);
        Assert.True(f.A.IsAvailable);
        Assert.False(f.A.ProbeSoon);
        Assert.Equal("2 consecutive probe passes: 200", f.Transitions[^1].Reason);
        Assert.Equal((2, 0), f.A.ProbeRun);
    }

    [Fact]
    public void ReportProbe_StartedBeforeTheDestinationChanged_IsIgnored()
    {
        var f = new DestinationFixture();
        f.Probe(f.A, Pass);
        var probeGeneration = f.A.Generation;
        f.A.Breaker.Isolate("by admin");        // any change of any signal starts a new generation

        Assert.False(f.A.ReportProbe(probeGeneration, Fail()));

        Assert.Equal(ActiveHealthState.Healthy, f.A.ActiveHealth);
        Assert.Equal((1, 0), f.A.ProbeRun);
    }

    [Fact]
    public void ActiveHealthOptions_Nonsense_IsRejectedNamingTheKey()
    {
        var options = new ActiveHealthOptions
        {
            Path = "health",
            Interval = TimeSpan.Zero,
            Timeout = TimeSpan.FromSeconds(-1),
            Jitter = 0.9,
            HealthyThreshold = 0,
            UnhealthyThreshold = 0,
            ExpectedStatus = "2xx",
            BodyContains = "",
            UnhealthyInterval = TimeSpan.Zero,
        };

        var errors = options.Validate("Rampart:Clusters:web:HealthCheck:Active");

        Assert.Equal(
        [
            "Rampart:Clusters:web:HealthCheck:Active:Path must start with '/' (was health)",
            "Rampart:Clusters:web:HealthCheck:Active:Interval must be positive (was 00:00:00)",
            "Rampart:Clusters:web:HealthCheck:Active:UnhealthyInterval must be positive (was 00:00:00)",
            "Rampart:Clusters:web:HealthCheck:Active:Timeout must be positive (was -00:00:01)",
            "Rampart:Clusters:web:HealthCheck:Active:Jitter must be between 0 and 0.5 (was 0.9)",
            "Rampart:Clusters:web:HealthCheck:Active:HealthyThreshold must be at least 1 (was 0)",
            "Rampart:Clusters:web:HealthCheck:Active:UnhealthyThreshold must be at least 1 (was 0)",
            "Rampart:Clusters:web:HealthCheck:Active:ExpectedStatus must be status codes or ranges within 100-999, such as \"200-299\" or \"200,204\" (was 2xx)",
            "Rampart:Clusters:web:HealthCheck:Active:BodyContains must not be empty when set (was )",
        ], errors);
    }

    [Theory]
    [InlineData("200-299", 200, true)]
    [InlineData("200-299", 299, true)]
    [InlineData("200-299", 300, false)]
    [InlineData("200,204, 300-302", 301, true)]
    [InlineData("200,204, 300-302", 203, false)]
    public void StatusCodeSet_Parse_ContainsExactlyTheRanges(string text, int code, bool expected) =>
        Assert.Equal(expected, StatusCodeSet.Parse(text).Contains(code));

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("299-200")]
    [InlineData("99")]
    [InlineData("200-1000")]
    public void StatusCodeSet_Nonsense_DoesNotParse(string text) => Assert.False(StatusCodeSet.TryParse(text, out _));
}
