using Rampart.Proxy.Fleet;

namespace Rampart.Proxy.Tests.Fleet;

/// <summary>Which replicas probe a destination: the same answer in every process, spread evenly, and stable when a replica leaves.</summary>
public sealed class RendezvousTests
{
    private static readonly string[] Replicas = ["r1", "r2", "r3", "r4", "r5"];
    private static readonly DestinationKey[] Keys = [.. Enumerable.Range(0, 1000).Select(i => new DestinationKey("web", "d" + i))];

    [Fact]
    public void AWeight_IsTheSameInEveryProcess() =>
        Assert.Equal(Rendezvous.Weight("r1", new DestinationKey("web", "b1")), Rendezvous.Weight("r1", new DestinationKey("WEB", "B1"))); // ids are case-insensitive, as in the configuration

    [Fact]
    public void EachDestination_GetsTwoDistinctProbers_SpreadEvenly()
    {
        var load = Replicas.ToDictionary(r => r, _ => 0);
        foreach (var key in Keys)
        {
            var picked = Rendezvous.Pick(Replicas, key, 2);
            Assert.Equal(2, picked.Distinct().Count());
            picked.ToList().ForEach(r => load[r]++);
        }

        Assert.All(load.Values, n => Assert.InRange(n, 400 - 80, 400 + 80)); // 2000 picks over 5 replicas: 400 each, within 20 %
    }

    [Fact]
    public void AReplicaLeaving_MovesOnlyTheDestinationsItProbed()
    {
        var before = Keys.ToDictionary(k => k, k => Rendezvous.Pick(Replicas, k, 2));
        var after = Keys.ToDictionary(k => k, k => Rendezvous.Pick(Replicas.Where(r => r != "r3"), k, 2));

        foreach (var key in Keys)
        {
            if (!before[key].Contains("r3"))
            {
                Assert.Equal(before[key], after[key]);
            }
            else
            {
                Assert.Contains(before[key].Single(r => r != "r3"), after[key]);
            }
        }
    }
}
