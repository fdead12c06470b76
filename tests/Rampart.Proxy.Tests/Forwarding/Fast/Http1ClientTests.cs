using Rampart.Clusters;
using Rampart.Proxy.Forwarding.Fast;

namespace Rampart.Proxy.Tests.Forwarding.Fast;

/// <summary>A cluster's pools: one per destination, let go when the destination leaves (a reload, a discovered address gone).</summary>
public sealed class Http1ClientTests
{
    [Fact]
    public void Retain_ClosesThePoolsOfDestinationsThatLeft_KeepsTheOthers()
    {
        var options = new ClusterOptions();
        options.Destinations["a"] = new DestinationOptions { Address = "http://127.0.0.2:9" };
        options.Destinations["b"] = new DestinationOptions { Address = "http://127.0.0.3:9" };
        var cluster = new ClusterState("web", options);
        using var client = new Http1Client(TimeSpan.FromSeconds(1), TimeProvider.System);
        var (a, b) = (cluster.Destinations[0], cluster.Destinations[1]);
        var (poolA, poolB) = (client.PoolFor(a), client.PoolFor(b));

        client.Retain([b]);

        Assert.Same(poolB, client.PoolFor(b));
        Assert.NotSame(poolA, client.PoolFor(a)); // a request still on the old snapshot gets a fresh pool; the old one is closed
    }
}
