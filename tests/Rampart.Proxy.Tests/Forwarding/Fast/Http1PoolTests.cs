using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Rampart.Destinations;
using Rampart.Proxy.Forwarding.Fast;
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
    private readonly TcpListener _waker = new(IPAddress.Loopback, 0); // what gets the test onto a loop's thread
    private readonly FakeTimeProvider _time = new();

    public Task InitializeAsync()
    {
        Assert.True(EventLoop.Count >= 2, "two loops need two cores, as CI's machine has");
        _destination.Start();
        _waker.Start();
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _destination.Stop();
        _waker.Stop();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task OnALoop_OnlyThatLoopsIdleConnectionsAreTaken()
    {
        var (first, second) = TwoLoops();
        using var pool = NewPool(maxConnections: 0);
        var connection = await IdleConnectionOfAsync(pool, first);

        Assert.Null(await OnLoopAsync(second, pool.TryTakeIdle)); // the other loop's: a new connection is opened instead
        Assert.Same(connection, await OnLoopAsync(first, pool.TryTakeIdle));
    }

    [Fact]
    public async Task UnderAConnectionLimit_AnotherLoopsIdleConnectionIsTaken()
    {
        var (first, second) = TwoLoops();
        using var pool = NewPool(maxConnections: 1);
        var connection = await IdleConnectionOfAsync(pool, first);

        Assert.Same(connection, await OnLoopAsync(second, pool.TryTakeIdle)); // no other may be opened: this one serves
    }

    private Http1Pool NewPool(int maxConnections) =>
        new(new DestinationEndpoint(new Uri($"http://127.0.0.1:{((IPEndPoint)_destination.LocalEndpoint).Port}/")), TimeSpan.FromSeconds(30), _time, maxConnections);

    // A connection opened on the loop, done with an exchange and back in the pool.
    private async Task<Http1Connection> IdleConnectionOfAsync(Http1Pool pool, EventLoop loop)
    {
        var connection = await await OnLoopAsync(loop, () => pool.ConnectAsync(CancellationToken.None).AsTask());
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

    // Runs the work on the loop's thread: where a receive on one of its sockets completes.
    private async Task<T> OnLoopAsync<T>(EventLoop loop, Func<T> work)
    {
        var accepting = _waker.AcceptSocketAsync();
        using var near = await EpollSocket.ConnectAsync("127.0.0.1", ((IPEndPoint)_waker.LocalEndpoint).Port, loop, CancellationToken.None);
        using var far = await accepting;
        var running = AfterAsync(near.ReceiveAsync(new byte[1]));
        await far.SendAsync(new byte[1]);
        return await running;

        async Task<T> AfterAsync(ValueTask<int> receiving)
        {
            await receiving.ConfigureAwait(false);
            Assert.Same(loop, EventLoop.Current);
            return work();
        }
    }
}
