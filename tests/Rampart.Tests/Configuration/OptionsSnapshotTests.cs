using Rampart.Clusters;
using Rampart.Configuration;

namespace Rampart.Tests.Configuration;

/// <summary>Options are validated once into an immutable snapshot; running state holds snapshots; reloads compare them by value.</summary>
public sealed class OptionsSnapshotTests
{
    private static ClusterOptions Options()
    {
        var options = new ClusterOptions();
        options.Destinations["a"] = new DestinationOptions { Address = "http://127.0.0.1:9001" };
        options.Destinations["b"] = new DestinationOptions { Address = "http://127.0.0.1:9002" };
        return options;
    }

    [Fact]
    public void Snapshot_IsFrozen_AllTheWayDown_AndTheOriginalStaysTheCallers()
    {
        var options = Options();
        var snapshot = options.ToSnapshot("Clusters:web");

        Assert.NotSame(options, snapshot);
        Assert.True(snapshot.IsFrozen && snapshot.HealthCheck.Active.IsFrozen && snapshot.Destinations["a"].IsFrozen);
        Assert.Throws<InvalidOperationException>(() => snapshot.Timeout = TimeSpan.FromSeconds(1));
        Assert.Throws<InvalidOperationException>(() => snapshot.HealthCheck.Active.Interval = TimeSpan.FromSeconds(1));
        Assert.Throws<InvalidOperationException>(() => snapshot.Destinations["a"].Address = "http://127.0.0.1:1");
        Assert.Throws<NotSupportedException>(() => snapshot.Destinations["c"] = new DestinationOptions());
        Assert.True(snapshot.Destinations.ContainsKey("A"), "keys stay case-insensitive");

        options.Timeout = TimeSpan.FromSeconds(5); // the caller's object is still the caller's
        options.Destinations.Remove("b");
        Assert.Equal(TimeSpan.FromSeconds(30), snapshot.Timeout);
        Assert.Equal(2, snapshot.Destinations.Count);
    }

    [Fact]
    public void Snapshot_OfASnapshot_IsItself_NotValidatedAgain()
    {
        var snapshot = Options().ToSnapshot();
        Assert.Same(snapshot, snapshot.ToSnapshot("anything"));
        var cluster = new ClusterState("web", snapshot);
        Assert.Same(snapshot, cluster.Options);
        // One snapshot shared by every destination, not a copy each.
        Assert.Same(snapshot.CircuitBreaker, cluster.Destinations[0].Breaker.Options);
        Assert.Same(cluster.Destinations[0].Breaker.Options, cluster.Destinations[1].Breaker.Options);
    }

    [Fact]
    public void InvalidOptions_EveryProblemAtOnce_UnderOnePrefix()
    {
        var options = Options();
        options.Retry.MaxAttempts = 0;
        options.HealthCheck.Active.Interval = TimeSpan.Zero;
        options.CircuitBreaker.FailureRatio = 2;
        options.Destinations["b"].Address = "ftp://x";

        var error = Assert.Throws<ArgumentException>(() => options.ToSnapshot("Rampart:Clusters:web"));
        foreach (var key in new[] { "Retry:MaxAttempts", "HealthCheck:Active:Interval", "CircuitBreaker:FailureRatio", "Destinations:b:Address" })
        {
            Assert.Contains("Rampart:Clusters:web:" + key, error.Message, StringComparison.Ordinal);
        }

        Assert.False(options.IsFrozen);
    }

    [Fact]
    public void Same_ComparesByValue_AllTheWayDown()
    {
        var a = Options().ToSnapshot();
        Assert.True(OptionsTree.Same(a, Options().ToSnapshot()));
        Assert.True(OptionsTree.Same(a, Options()), "a snapshot and the options it was made from say the same");

        var deep = Options();
        deep.HealthCheck.Passive.BaseEjectionTime = TimeSpan.FromSeconds(11);
        Assert.False(OptionsTree.Same(a, deep.ToSnapshot()));

        var moved = Options();
        moved.Destinations["b"].Address = "http://127.0.0.1:9003";
        Assert.False(OptionsTree.Same(a, moved));

        var renamed = Options();
        renamed.Destinations.Remove("b");
        renamed.Destinations["c"] = new DestinationOptions { Address = "http://127.0.0.1:9002" };
        Assert.False(OptionsTree.Same(a, renamed));
    }

    [Fact]
    public void Copy_IsDeep_AndNotFrozen()
    {
        var snapshot = Options().ToSnapshot();
        var copy = (ClusterOptions)OptionsTree.Copy(snapshot);

        Assert.False(copy.IsFrozen || copy.HealthCheck.IsFrozen || copy.Destinations["a"].IsFrozen);
        copy.Destinations["a"].Address = "http://127.0.0.1:1";
        copy.HealthCheck.Active.Path = "/health";
        Assert.Equal("http://127.0.0.1:9001", snapshot.Destinations["a"].Address);
        Assert.Equal("/", snapshot.HealthCheck.Active.Path);
    }
}
