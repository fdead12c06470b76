using System.Net;
using System.Net.Sockets;
using Rampart.Proxy.Forwarding.Fast;

namespace Rampart.Proxy.Tests.Forwarding.Fast;

/// <summary>
/// One destination connection and the attempt it serves (real loopback connections): the attempt's cancellation ends
/// the exchange on it, and reaches it no more once it is idle — a caller who leaves just after its response was read
/// must not abort the connection in the pool, or in the hands of the next request (which would then fail, blamed on
/// the destination: a 504 that CI once saw as <c>AWaiterWhoseClientLeaves_TakesNothingWithIt</c>).
/// </summary>
public sealed class Http1ConnectionTests : IAsyncLifetime
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private Http1Connection _connection = null!;
    private Socket _peer = null!;

    public async Task InitializeAsync()
    {
        _listener.Start();
        var accepting = _listener.AcceptSocketAsync();
        _connection = await Http1Connection.ConnectAsync("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port, TimeSpan.FromSeconds(30), TimeProvider.System, null, CancellationToken.None);
        _peer = await accepting;
    }

    public Task DisposeAsync()
    {
        _connection.Close();
        _peer.Dispose();
        _listener.Stop();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task TheAttemptsCancellation_AbortsTheExchange()
    {
        using var attempt = new CancellationTokenSource();
        _connection.Begin(attempt.Token);
        var receiving = _connection.Reader.ReceiveAsync();

        await attempt.CancelAsync();

        await Assert.ThrowsAnyAsync<Exception>(async () => await receiving); // the socket was closed under it
        Assert.True(_connection.TimedOut);
        Assert.False(_connection.TryIdle());
    }

    [Fact]
    public async Task AnAttemptCancelledAfterItsConnectionWentIdle_LeavesTheConnectionAlone()
    {
        using var first = new CancellationTokenSource();
        _connection.Begin(first.Token);
        Assert.True(_connection.TryIdle());

        await first.CancelAsync(); // the first request's caller leaves, its response already read

        Assert.False(_connection.TimedOut);
        _connection.Begin(CancellationToken.None); // the next request, on the same connection
        await _peer.SendAsync("HTTP/1.1 200 OK\r\n"u8.ToArray());
        var read = _connection.Reader.Received(await _connection.Reader.ReceiveAsync());
        Assert.False(read.Buffer.IsEmpty);
        Assert.True(_connection.TryIdle());
    }
}
