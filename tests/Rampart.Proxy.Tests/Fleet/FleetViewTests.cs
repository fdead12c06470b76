using Rampart.Proxy.Fleet;

namespace Rampart.Proxy.Tests.Fleet;

/// <summary>What this replica knows of the others' verdicts: only live replicas count, and a late verdict never undoes a newer one.</summary>
public sealed class FleetViewTests
{
    private static readonly DestinationKey B1 = new("web", "b1");

    [Fact]
    public void ALateVerdict_TheHashReadAfterANewerMessage_IsIgnored()
    {
        var view = new FleetView("r2");
        view.SetLive(["r1", "r2"]);

        Assert.True(view.Take(Verdict("r1", held: false, sequence: 6))); // the message "back in" came first...
        Assert.False(view.Take(Verdict("r1", held: true, sequence: 5))); // ...the resync's older "out" arrives after it

        Assert.Empty(view.HeldOutBy(B1));
    }

    [Fact]
    public void ARestartedReplica_IsOrderedByItsNewIncarnation()
    {
        var view = new FleetView("r2");
        view.SetLive(["r1", "r2"]);
        view.Take(Verdict("r1", held: false, sequence: 900));

        Assert.True(view.Take(Verdict("r1", held: true, sequence: 1, incarnation: 2))); // its counter starts again, in a later process

        Assert.Equal([("r1", "5 consecutive failures")], view.HeldOutBy(B1));
    }

    [Fact]
    public void OnlyLiveReplicasCount_AndThisOneNever()
    {
        var view = new FleetView("r2");
        view.Take(Verdict("r1", held: true, sequence: 1));
        view.Take(Verdict("r2", held: true, sequence: 1));

        Assert.Empty(view.HeldOutBy(B1)); // r1 is not live (yet)
        view.SetLive(["r1"]);
        Assert.Equal(["r1"], view.HeldOutBy(B1).Select(b => b.Replica));
        Assert.Equal([B1], view.HeldOut());
    }

    private static FleetVerdict Verdict(string replica, bool held, long sequence, long incarnation = 1) =>
        new(replica, B1.Cluster, B1.Destination, held, "5 consecutive failures", incarnation, sequence, Generation: 7);
}
