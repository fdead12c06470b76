using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Rampart.Destinations;
using Rampart.Proxy.Forwarding.Fast;
using Rampart.Proxy.Tests.Infrastructure;
using Rampart.Proxy.Transport;

namespace Rampart.Proxy.Tests.Forwarding.Fast;

/// <summary>
/// The fast path's idle destination connections on the epoll loops (real loopback connections): a request on a loop
/// takes only that loop's own, as nginx's workers keep theirs — its response then wakes the thread serving it, and no
/// request waits on another loop's thread — unless a connection limit forbids opening another, when another loop's idle
/// connection serves rather than the request waiting.
/// </summary>
public sealed class Http1PoolTests : IAsyncLifetime
{
    private readonly TcpListener _destination = new(IPAddress.Loopback, 0);
    private readonly FakeTimeProvider _time = new();

    public Task InitializeAsync()
    {
        Assert.True(EventLoop.Count >= 2, "two loops need two cores, as CI's machine has");
        _destination.Start();
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _destination.Stop();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task OnALoop_OnlyThatLoopsIdleConnectionsAreTaken()
    {
        var (first, second) = TwoLoops();
        using var pool = NewPool(maxConnections: 0);
        var connection = await IdleConnectionOfAsync(pool, first);

        Assert.Null(await OnLoop.RunAsync(second, pool.TryTakeIdle)); // the other loop's: a new connection is opened instead
        Assert.Same(connection, await OnLoop.RunAsync(first, pool.TryTakeIdle));
    }

    [Fact]
    public async Task UnderAConnectionLimit_AnotherLoopsIdleConnectionIsTaken()
    {
        var (first, second) = TwoLoops();
        using var pool = NewPool(maxConnections: 1);
        var connection = await IdleConnectionOfAsync(pool, first);

        Assert.Same(connection, await OnLoop.RunAsync(second, pool.TryTakeIdle)); // no other may be opened: this one serves
    }

    private Http1Pool NewPool(int maxConnections) =>
        new(new DestinationEndpoint(new Uri($"http://127.0.0.1:{((IPEndPoint)_destination.LocalEndpoint).Port}/")), TimeSpan.FromSeconds(30), _time, maxConnections);

    // A connection opened on the loop, done with an exchange and back in the pool.
    private async Task<Http1Connection> IdleConnectionOfAsync(Http1Pool pool, EventLoop loop)
    {
        var connection = await await OnLoop.RunAsync(loop, () => pool.ConnectAsync(CancellationToken.None).AsTask());
        Assert.Same(loop, connection.Loop);
        connection.Begin(CancellationToken.None);
        pool.Return(connection);
        return connection;
    }

    private static (EventLoop First, EventLoop Second) TwoLoops()
    {
        var first = EventLoop.Next();
        var second = EventLoop.Next();
        while (second == first)
        {
            second = EventLoop.Next(); // other tests take turns too
        }

        return (first, second);
    }
}
