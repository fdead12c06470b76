using Rampart.Destinations;
using Rampart.Health;

namespace Rampart.Tests.Destinations;

/// <summary>
/// The fleet's signal on one destination (on fake time): another replica's verdict makes it suspect here (no ordinary
/// traffic) until this replica's own probe decides; a quorum excludes it whatever this replica sees; what this replica
/// tells the fleet is its own signals only.
/// </summary>
public sealed class FleetSignalTests
{
    [Fact]
    public void Suspect_TakesItOut_AProbePassTrustsItAgain()
    {
        var f = new DestinationFixture();

        Assert.True(f.A.Suspect("held out by r1: 5 consecutive failures: 502"));

        Assert.False(f.A.IsAvailable);
        Assert.False(f.A.IsHeldOutHere); // a suspicion is not echoed to the fleet
        Assert.True(f.A.ProbeSoon); // verified at the short interval until decided
        Assert.False(f.A.Suspect("held out by r2: …")); // once is enough

        f.Probe(f.A, DestinationFixture.Pass);

        Assert.Equal(FleetState.Trusted, f.A.FleetState);
        Assert.True(f.A.IsAvailable);
        Assert.Equal(["Trusted->Suspect: held out by r1: 5 consecutive failures: 502", "Suspect->Trusted: verified here: the probe passed"],
            f.Transitions.Where(t => t.Signal == HealthSignal.Fleet).Select(t => $"{t.From}->{t.To}: {t.Reason}"));
    }

    [Fact]
    public void ASuspectWhoseProbeFails_IsConfirmed_HeldOutHereToo_UntilAProbePasses()
    {
        var f = new DestinationFixture();
        f.A.Suspect("held out by r1");

        f.Probe(f.A, DestinationFixture.Fail());

        Assert.Equal(FleetState.Confirmed, f.A.FleetState);
        Assert.True(f.A.IsHeldOutHere);
        Assert.Equal(ActiveHealthState.Unknown, f.A.ActiveHealth); // one failure: below the unhealthy threshold, yet out on the fleet's word and its own probe

        f.Probe(f.A, DestinationFixture.Pass);

        Assert.Equal(FleetState.Trusted, f.A.FleetState);
        Assert.False(f.A.IsHeldOutHere);
    }

    [Fact]
    public void AQuorum_ExcludesWhateverTheProbesSay_ItsLossGivesBackThisReplicasOwnVerdict()
    {
        var f = new DestinationFixture();
        f.A.Suspect("held out by r1");
        f.A.SetQuorum("held out by r1, r2: 2 of 3 live replicas, quorum 2");

        f.Probe(f.A, DestinationFixture.Pass); // this replica would keep it: journaled, but the quorum stands

        Assert.Equal(FleetState.Excluded, f.A.FleetState);
        Assert.False(f.A.IsAvailable);
        Assert.False(f.A.IsHeldOutHere);
        Assert.Contains(f.Transitions, t => t.From.Is(FleetState.Excluded) && t.To.Is(FleetState.Excluded) && t.Reason == "verified here: the probe passed");

        f.A.SetQuorum(null);

        Assert.Equal(FleetState.Trusted, f.A.FleetState);
        Assert.True(f.A.IsAvailable);
    }

    [Fact]
    public void TrustAgain_EndsSuspicionAndQuorum_AndIsANoOpWhenTrusted()
    {
        var f = new DestinationFixture();
        Assert.False(f.A.TrustAgain("the fleet is unreachable"));
        f.A.Suspect("held out by r1");
        f.A.SetQuorum("quorum");

        Assert.True(f.A.TrustAgain("the fleet is unreachable"));

        Assert.Equal(FleetState.Trusted, f.A.FleetState);
        Assert.True(f.A.IsAvailable);
    }

    [Fact]
    public void HeldOutHere_IsThisReplicasOwnSignals()
    {
        var f = new DestinationFixture();
        Assert.False(f.A.IsHeldOutHere);

        f.A.Breaker.Isolate("isolated by admin");
        Assert.True(f.A.IsHeldOutHere);
        f.A.Reset("reset by admin");

        f.Request(f.A, Rampart.CircuitBreaking.CallResult.Failure, times: 3); // ejected
        Assert.True(f.A.IsHeldOutHere);
    }

    [Fact]
    public void WithoutProbes_ASuspectTakesOneTrialRequest_ItsSuccessTrustsIt()
    {
        var f = new DestinationFixture(health: h => h.Active.Enabled = false);
        f.A.Suspect("held out by r1");

        Assert.True(f.A.IsAvailable); // one trial request may go
        Assert.True(f.A.TryAcquire(out var trial));
        Assert.False(f.A.IsAvailable); // and only one
        Assert.False(f.A.TryAcquire(out _));

        f.A.Report(trial, Rampart.CircuitBreaking.CallResult.Success);

        Assert.Equal(FleetState.Trusted, f.A.FleetState);
        Assert.Equal("verified here: a trial request succeeded", f.Transitions[^1].Reason);
        Assert.True(f.A.IsAvailable);
    }

    [Fact]
    public void WithoutProbes_AFailedTrialConfirms_AGivenUpOneLeavesTheTrialOpen()
    {
        var f = new DestinationFixture(health: h => h.Active.Enabled = false);
        f.A.Suspect("held out by r1");
        Assert.True(f.A.TryAcquire(out var given));
        f.A.Report(given, Rampart.CircuitBreaking.CallResult.Ignored); // the client went away: nothing learned

        Assert.Equal(FleetState.Suspect, f.A.FleetState);
        Assert.True(f.A.TryAcquire(out var trial));
        f.A.Report(trial, Rampart.CircuitBreaking.CallResult.Failure, "502");

        Assert.Equal(FleetState.Confirmed, f.A.FleetState);
        Assert.Equal("verified here: a trial request failed: 502", f.Transitions.Last(t => t.Signal == HealthSignal.Fleet).Reason);
        Assert.True(f.A.IsHeldOutHere);
        Assert.False(f.A.IsAvailable);
    }

    [Fact]
    public void UnderAQuorum_ThereIsNoTrial_ItsLossOpensOneAgain()
    {
        var f = new DestinationFixture(health: h => h.Active.Enabled = false);
        f.A.Suspect("held out by r1");
        f.A.SetQuorum("held out by r1, r2");

        Assert.False(f.A.IsAvailable);
        Assert.False(f.A.TryAcquire(out _));

        f.A.SetQuorum(null);

        Assert.True(f.A.TryAcquire(out _));
    }

    [Fact]
    public void WithProbes_ASuspectTakesNoTrialRequest()
    {
        var f = new DestinationFixture();
        f.A.Suspect("held out by r1");

        Assert.False(f.A.IsAvailable);
        Assert.False(f.A.TryAcquire(out _));
    }
}
