using Rampart.CircuitBreaking;
using Rampart.Destinations;
using Rampart.Health;

namespace Rampart.Tests.Destinations;

public sealed class SignalStateTests
{
    [Fact]
    public void SameNameOfDifferentSignals_AreDifferentStates()
    {
        // "Healthy" is both an active and a passive state: typed states never mix them up, as strings did.
        Assert.NotEqual(SignalState.Of(ActiveHealthState.Healthy), SignalState.Of(PassiveHealthState.Healthy));
        Assert.Equal("Healthy", SignalState.Of(ActiveHealthState.Healthy).ToString());
        Assert.Equal("Healthy", SignalState.Of(PassiveHealthState.Healthy).ToString());
        Assert.True(SignalState.Of(CircuitState.HalfOpen).Is(CircuitState.HalfOpen));
        Assert.False(SignalState.Of(CircuitState.HalfOpen).Is(ActiveHealthState.Unknown));
    }

    [Theory]
    [InlineData(HealthSignal.Active, "Unhealthy", true)]
    [InlineData(HealthSignal.Active, "Healthy", false)]
    [InlineData(HealthSignal.Passive, "Ejected", true)]
    [InlineData(HealthSignal.Passive, "Probation", false)]
    [InlineData(HealthSignal.Circuit, "Open", true)]
    [InlineData(HealthSignal.Circuit, "Isolated", true)]
    [InlineData(HealthSignal.Circuit, "HalfOpen", false)]
    [InlineData(HealthSignal.Admin, "Draining", false)]
    public void IsOut_ExactlyTheStatesAFailureOrIsolationTakesADestinationTo(HealthSignal signal, string name, bool isOut)
    {
        var state = signal switch
        {
            HealthSignal.Active => SignalState.Of(Enum.Parse<ActiveHealthState>(name)),
            HealthSignal.Passive => SignalState.Of(Enum.Parse<PassiveHealthState>(name)),
            HealthSignal.Circuit => SignalState.Of(Enum.Parse<CircuitState>(name)),
            _ => SignalState.Of(Enum.Parse<AdminState>(name)),
        };

        Assert.Equal(signal, state.Signal);
        Assert.Equal(name, state.ToString());
        Assert.Equal(isOut, state.IsOut);
    }

    [Fact]
    public void Drain_IsJournaledAsAnAdminTransition_AndReset_EndsIt()
    {
        var f = new DestinationFixture();
        f.A.Drain("drained by test");
        Assert.Equal(AdminState.Draining, f.A.AdminState);
        f.A.Reset("reset by test");

        var transitions = f.A.GetTransitions();
        Assert.Equal(
            [(SignalState.Of(AdminState.Serving), SignalState.Of(AdminState.Draining)), (SignalState.Of(AdminState.Draining), SignalState.Of(AdminState.Serving))],
            transitions.Select(t => (t.From, t.To)));
        Assert.All(transitions, t => Assert.Equal(HealthSignal.Admin, t.Signal));
        Assert.Equal(AdminState.Serving, f.A.AdminState);
    }
}
