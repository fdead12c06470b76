using System.Net;
using System.Net.Sockets;
using Rampart.Proxy.Forwarding.Fast;

namespace Rampart.Proxy.Tests.Forwarding.Fast;

/// <summary>
/// The fast path's connection limit on its own (real loopback connections): slots are counted exactly, a connection
/// done with goes to the first waiter, a closed one frees its slot for a waiter, and a waiter that gives up keeps
/// nothing — whatever it was handed as it left goes on.
/// </summary>
public sealed class ConnectionLimitUnitTests : IAsyncLifetime
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Http1Connection> _connections = [];

    public Task InitializeAsync()
    {
        _listener.Start(backlog: 16);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            connection.Close();
        }

        _listener.Stop();
        return Task.CompletedTask;
    }

    [Fact]
    public void Slots_AreCountedExactly()
    {
        var limit = new ConnectionLimit(2);

        Assert.True(limit.TryOpen());
        Assert.True(limit.TryOpen());
        Assert.False(limit.TryOpen());
        limit.Closed();

        Assert.Equal(1, limit.Open);
        Assert.True(limit.TryOpen());
    }

    [Fact]
    public async Task AConnectionDoneWith_GoesToTheFirstWaiter()
    {
        var limit = new ConnectionLimit(1);
        Assert.True(limit.TryOpen());
        var connection = await ConnectAsync(limit);

        var waiting = limit.WaitAsync(() => null, _ => Assert.Fail("nothing to give back"), CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        Assert.True(limit.TryHandOver(connection));
        Assert.Same(connection, await Bounded(waiting));
        Assert.Equal(1, limit.Open);
    }

    [Fact]
    public async Task AClosedConnection_FreesItsSlotForAWaiter()
    {
        var limit = new ConnectionLimit(1);
        Assert.True(limit.TryOpen());
        var connection = await ConnectAsync(limit);
        var waiting = limit.WaitAsync(() => null, _ => Assert.Fail("nothing to give back"), CancellationToken.None);

        connection.Close(); // its slot goes to the waiter, who opens a connection in it
        connection.Close(); // once only

        Assert.Null(await Bounded(waiting));
        Assert.Equal(1, limit.Open);
        Assert.False(limit.TryOpen());
    }

    [Fact]
    public async Task AWaiterThatGivesUp_KeepsNoSlot()
    {
        var limit = new ConnectionLimit(1);
        Assert.True(limit.TryOpen());
        var connection = await ConnectAsync(limit);
        using var leaving = new CancellationTokenSource();
        var waiting = limit.WaitAsync(() => null, _ => Assert.Fail("nothing to give back"), leaving.Token);

        await leaving.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(waiting));
        connection.Close();

        Assert.Equal(0, limit.Open); // the slot was not handed to the waiter that left
        Assert.True(limit.TryOpen());
    }

    [Fact]
    public async Task AWaiterThatFindsAnIdleConnectionAsItQueues_TakesIt()
    {
        // A connection went idle after the request looked for one and before it queued: it is not left idle.
        var limit = new ConnectionLimit(1);
        Assert.True(limit.TryOpen());
        var idle = await ConnectAsync(limit);

        var connection = await limit.WaitAsync(() => idle, _ => Assert.Fail("nothing to give back"), CancellationToken.None);

        Assert.Same(idle, connection);
    }

    // A hang guard only (broken code fails instead of hanging the run); nothing here is timed.
    private static Task<Http1Connection?> Bounded(ValueTask<Http1Connection?> waiting) => waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(30));

    private async Task<Http1Connection> ConnectAsync(ConnectionLimit limit)
    {
        var connection = await Http1Connection.ConnectAsync("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port, TimeSpan.FromSeconds(5), TimeProvider.System, limit.Closed, CancellationToken.None);
        _connections.Add(connection);
        return connection;
    }
}
