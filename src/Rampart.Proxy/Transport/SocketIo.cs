using System.Net.Sockets;

namespace Rampart.Proxy.Transport;

/// <summary>
/// A connected stream socket, as <see cref="Forwarding.Fast.SocketReader"/> and <see cref="Forwarding.Fast.SocketWriter"/>
/// use it: on .NET's sockets (<see cref="SystemSocketIo"/>) or on Rampart's epoll loops (<see cref="EpollSocket"/>).
/// </summary>
internal abstract class SocketIo : IDisposable
{
    /// <summary>What <see cref="ReceiveAsync(Memory{byte})"/> returns when <see cref="CancelPendingReceive"/> ended it.</summary>
    public const int Canceled = -1;

    /// <summary>One receive into <paramref name="buffer"/>: the bytes received, 0 at the end, <see cref="Canceled"/>.</summary>
    public abstract ValueTask<int> ReceiveAsync(Memory<byte> buffer);

    /// <summary>A receive that <paramref name="cancellationToken"/> ends (it throws <see cref="OperationCanceledException"/>).</summary>
    public abstract ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Sends all of <paramref name="buffer"/> (waiting for room as long as it takes).</summary>
    public abstract ValueTask SendAsync(ReadOnlyMemory<byte> buffer);

    /// <summary>Whether the peer closed it or sent something while it sat idle (a pooled connection's check).</summary>
    public abstract bool LooksClosed();

    /// <summary>Ends a pending receive with <see cref="Canceled"/>, or the next one when none is pending.</summary>
    public virtual void CancelPendingReceive() => throw new NotSupportedException("a destination's read ends when its socket is closed");

    /// <summary>Closes the socket: every pending receive and send ends with an error.</summary>
    public abstract void Dispose();
}

/// <summary>A socket on .NET's own engine.</summary>
internal sealed class SystemSocketIo(Socket socket) : SocketIo
{
    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer) => socket.ReceiveAsync(buffer, SocketFlags.None);

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) => socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer)
    {
        var sending = socket.SendAsync(buffer, SocketFlags.None); // a stream socket's send completes when every byte is out
        if (sending.IsCompletedSuccessfully)
        {
            _ = sending.Result;
            return default;
        }

        return Awaited(sending);

        static async ValueTask Awaited(ValueTask<int> sending) => await sending.ConfigureAwait(false);
    }

    public override bool LooksClosed()
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectRead); // readable while idle: EOF, a reset, or stray bytes
        }
        catch (SocketException)
        {
            return true;
        }
    }

    public override void Dispose() => socket.Dispose();
}
