using Microsoft.Extensions.Time.Testing;
using Rampart.Clusters;
using Rampart.Failover;

namespace Rampart.Tests.Failover;

/// <summary>An upgrade the request asked for (a WebSocket) outlives the request's deadline; the caller's leaving still ends it.</summary>
public sealed class UpgradeDeadlineTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly ClusterState _cluster;

    public UpgradeDeadlineTests()
    {
        var options = new ClusterOptions { AttemptTimeout = TimeSpan.FromSeconds(1), Timeout = TimeSpan.FromSeconds(2) };
        options.Destinations["d0"] = new DestinationOptions { Address = "http://127.0.0.1:9001" };
        _cluster = new ClusterState("web", options, _time);
    }

    [Fact]
    public void AfterA101ItAskedFor_TheDeadlineNoLongerCancels()
    {
        var loop = AttemptLoop.Rent(_cluster, "GET", hasBody: false, null, CancellationToken.None);
        Assert.Equal(ResponseVerdict.PassOn, loop.OnResponse(101));

        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.False(loop.Token.IsCancellationRequested);
        loop.Return();
    }

    [Fact]
    public void AnyOtherAnswer_KeepsTheDeadline()
    {
        var loop = AttemptLoop.Rent(_cluster, "GET", hasBody: false, null, CancellationToken.None);
        Assert.Equal(ResponseVerdict.PassOn, loop.OnResponse(200));

        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.True(loop.Token.IsCancellationRequested); // a response body still streaming when the deadline passes is cut
        loop.Return();
    }

    [Fact]
    public void AnUnaskedFor101_KeepsTheDeadline()
    {
        var loop = AttemptLoop.Rent(_cluster, "GET", hasBody: false, null, CancellationToken.None);
        Assert.NotEqual(ResponseVerdict.PassOn, loop.OnResponse(101, unexpectedUpgrade: true)); // kept from the caller, tried elsewhere or refused

        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.True(loop.Token.IsCancellationRequested);
        loop.Return();
    }

    [Fact]
    public void AfterA101_TheCallersLeavingStillEndsIt()
    {
        using var caller = new CancellationTokenSource();
        var loop = AttemptLoop.Rent(_cluster, "GET", hasBody: false, null, caller.Token);
        loop.OnResponse(101);

        caller.Cancel();

        Assert.True(loop.Token.IsCancellationRequested);
        loop.Return();
    }
}
