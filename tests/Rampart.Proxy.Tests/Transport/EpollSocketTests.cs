using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections;
using Rampart.Proxy.Tests.Infrastructure;
using Rampart.Proxy.Transport;

namespace Rampart.Proxy.Tests.Transport;

/// <summary>
/// The epoll transport's socket, over real loopback connections: receives wait for the next readiness edge and
/// complete on the loop's thread, sends wait for room and get every byte out in order, a pending receive ends once
/// (cancelled, or with an error when the socket closes), the peer's end is seen, and a connect succeeds, is refused,
/// or is cancelled.
/// </summary>
public sealed class EpollSocketTests : IAsyncLifetime
{
    private Socket _listener = null!;

    public Task InitializeAsync()
    {
        Assert.True(EpollNative.IsSupported, "the epoll transport runs on Linux x64, as this suite does");
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _listener?.Dispose();
        return Task.CompletedTask;
    }

    private int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    // A connection: our end on a loop (connected by EpollSocket), the peer's an ordinary socket.
    private async Task<(EpollSocket Near, Socket Far)> ConnectAsync()
    {
        var accepting = _listener.AcceptAsync();
        var near = await EpollSocket.ConnectAsync("127.0.0.1", Port, EventLoop.Next(), CancellationToken.None);
        return (near, await accepting);
    }

    [Fact]
    public async Task Receive_WaitsForTheNextEdge_AndCompletesOnTheLoopsThread()
    {
        var (near, far) = await ConnectAsync();
        using var _ = far;
        using var __ = near;
        var buffer = new byte[64];

        var receiving = near.ReceiveAsync(buffer);
        Assert.False(receiving.IsCompleted); // nothing sent yet
        await far.SendAsync("hello"u8.ToArray(), SocketFlags.None);
        Assert.Equal(5, await receiving);
        Assert.Equal("hello"u8.ToArray(), buffer[..5]);

        var second = near.ReceiveAsync(buffer); // the short read above marked the socket drained: this one waits for an edge
        Assert.False(second.IsCompleted);
        var observed = ThreadOfAsync(second);
        await far.SendAsync("again"u8.ToArray(), SocketFlags.None);
        var (count, thread) = await observed;
        Assert.Equal(5, count);
        Assert.StartsWith("Rampart epoll", thread);
    }

    // The thread a receive's continuation ran on (inline where it completed: no context to post to).
    private static async Task<(int Count, string? Thread)> ThreadOfAsync(ValueTask<int> receiving)
    {
        var count = await receiving.ConfigureAwait(false);
        return (count, Thread.CurrentThread.Name);
    }

    [Fact]
    public async Task Send_MoreThanTheSocketHolds_WaitsForRoom_AndEveryByteArrivesInOrder()
    {
        var (near, far) = await ConnectAsync();
        using var _ = far;
        using var __ = near;
        var data = RandomNumberGenerator.GetBytes(32 * 1024 * 1024);

        var sending = near.SendAsync(data);
        Assert.False(sending.IsCompleted); // 32 MB do not fit the sockets' buffers (a few MB each way): it waits for the reader
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (received.Length < data.Length)
        {
            var count = await far.ReceiveAsync(buffer, SocketFlags.None);
            Assert.NotEqual(0, count);
            received.Write(buffer, 0, count);
        }

        await sending;
        Assert.True(data.AsSpan().SequenceEqual(received.ToArray()));
    }

    [Fact]
    public async Task ManySocketsOpenedAndClosedOnOneLoop_EachWakesOnItsOwnEdges()
    {
        // More sockets than the loop's first slot table holds, half of them closed and their slots taken again.
        var loop = EventLoop.Next();
        async Task<(EpollSocket Near, Socket Far)> OpenAsync()
        {
            var accepting = _listener.AcceptAsync();
            var near = await EpollSocket.ConnectAsync("127.0.0.1", Port, loop, CancellationToken.None);
            return (near, await accepting);
        }

        var open = new List<(EpollSocket Near, Socket Far)>();
        for (var i = 0; i < 300; i++)
        {
            open.Add(await OpenAsync());
        }

        foreach (var (near, far) in open.Where((_, i) => i % 2 == 0))
        {
            near.Dispose();
            far.Dispose();
        }

        open = [.. open.Where((_, i) => i % 2 == 1)];
        for (var i = 0; i < 150; i++)
        {
            open.Add(await OpenAsync());
        }

        try
        {
            var receiving = open.Select(c => c.Near.ReceiveAsync(new byte[4]).AsTask()).ToList(); // every one waits for its edge
            for (var i = 0; i < open.Count; i++)
            {
                await open[i].Far.SendAsync(BitConverter.GetBytes(i), SocketFlags.None);
            }

            Assert.All(await Task.WhenAll(receiving), count => Assert.Equal(4, count));
        }
        finally
        {
            open.ForEach(c =>
            {
                c.Near.Dispose();
                c.Far.Dispose();
            });
        }
    }

    [Fact]
    public async Task CancelPendingReceive_EndsTheWaitingReceive_OrTheNextOne()
    {
        var (near, far) = await ConnectAsync();
        using var _ = far;
        using var __ = near;
        var buffer = new byte[16];

        var receiving = near.ReceiveAsync(buffer);
        near.CancelPendingReceive();
        Assert.Equal(SocketIo.Canceled, await receiving);

        near.CancelPendingReceive(); // none waiting: the next one is cancelled
        Assert.Equal(SocketIo.Canceled, await near.ReceiveAsync(buffer));

        await far.SendAsync("x"u8.ToArray(), SocketFlags.None); // and the one after receives again
        Assert.Equal(1, await near.ReceiveAsync(buffer));
    }

    [Fact]
    public async Task ATokensCancellation_ThrowsOperationCanceled()
    {
        var (near, far) = await ConnectAsync();
        using var _ = far;
        using var __ = near;
        using var cts = new CancellationTokenSource();

        var receiving = near.ReceiveAsync(new byte[16], cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await receiving);
    }

    [Fact]
    public async Task Closing_EndsAPendingReceive_WithAnError_ThatOnAClientsConnectionIsAnIOException()
    {
        var (near, far) = await ConnectAsync();
        using var _ = far;
        var receiving = near.ReceiveAsync(new byte[16]);
        near.Dispose();
        var error = await Assert.ThrowsAsync<SocketException>(() => receiving.AsTask().WaitAsync(Wait.Generous));
        Assert.Equal(SocketError.OperationAborted, error.SocketErrorCode);

        var (client, peer) = await ConnectAsync();
        using var ___ = peer;
        client.IsClient = true; // as EpollConnection sets it: Kestrel's servers expect IOExceptions from a transport
        var waiting = client.ReceiveAsync(new byte[16]);
        client.Dispose();
        await Assert.ThrowsAsync<ConnectionResetException>(async () => await waiting);
    }

    [Fact]
    public async Task ThePeersEnd_IsAReceiveOfNothing_AndPeerClosedFiresOnce()
    {
        var (near, far) = await ConnectAsync();
        using var _ = near;
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        near.PeerClosed = () =>
        {
            Interlocked.Increment(ref calls);
            closed.TrySetResult();
        };
        Assert.False(near.LooksClosed()); // idle, nothing arrived

        var receiving = near.ReceiveAsync(new byte[16]);
        far.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await receiving);
        await closed.Task;
        far.Dispose();
        Assert.True(near.LooksClosed());
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task ThePeersReset_FailsAWaitingReceive_AndTheNextSend_WithConnectionReset()
    {
        var (near, far) = await ConnectAsync();
        using var _ = near;
        var receiving = near.ReceiveAsync(new byte[16]);
        Assert.False(receiving.IsCompleted);

        far.LingerState = new LingerOption(true, 0); // closing with a linger of 0 sends a reset, not a FIN
        far.Dispose();

        // The call's own errno (ECONNRESET), not a "nothing yet" that would wait for an edge that never comes.
        var error = await Assert.ThrowsAsync<SocketException>(() => receiving.AsTask().WaitAsync(Wait.Generous));
        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
        var sendError = await Assert.ThrowsAsync<SocketException>(() => near.SendAsync(new byte[16]).AsTask().WaitAsync(Wait.Generous));
        Assert.True(sendError.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown, sendError.SocketErrorCode.ToString());
    }

    [Fact]
    public async Task StrayBytesWhileIdle_LookClosed()
    {
        var (near, far) = await ConnectAsync();
        using var _ = far;
        using var __ = near;
        Assert.False(near.LooksClosed());
        var arrived = near.ReceiveAsync(new byte[1]); // waits for the edge, so that the check below sees it
        await far.SendAsync("xy"u8.ToArray(), SocketFlags.None);
        Assert.Equal(1, await arrived); // one byte of two taken: the other is still there
        Assert.True(near.LooksClosed());
    }

    [Fact]
    public async Task Connect_ToAPortNobodyListensOn_IsRefused()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)probe.LocalEndPoint!).Port; // bound, not listening

        var error = await Assert.ThrowsAsync<SocketException>(async () => await EpollSocket.ConnectAsync("127.0.0.1", port, EventLoop.Next(), CancellationToken.None));

        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }

    [Fact]
    public async Task Connect_Cancelled_ThrowsOperationCanceled()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await EpollSocket.ConnectAsync("127.0.0.1", Port, EventLoop.Next(), cts.Token));
    }
}
