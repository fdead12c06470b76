using System.Net;
using System.Net.Sockets;
using static Rampart.Proxy.Transport.EpollNative;

namespace Rampart.Proxy.Transport;

/// <summary>
/// A non-blocking socket on an <see cref="EventLoop"/>, read and written with nginx's discipline: a receive shorter
/// than its buffer means the socket is drained, so the next receive waits for the next readiness edge instead of
/// making a call that is sure to fail with <c>EAGAIN</c> (.NET's sockets always try first: two calls per request more).
/// A wait completes on the loop's thread, which runs the awaiting code there. One receive and one send at a time.
/// </summary>
/// <remarks>
/// Readiness is counted, not flagged: each edge increments a counter, and "drained" records the count a receive saw
/// before it found the socket empty; an edge after that makes the socket ready again. A waiting receive or send is
/// owned by whoever takes its <c>Waiting</c> flag (the loop, a cancellation, the closing): it completes exactly once.
/// One file past 400 lines on purpose: the protocol (who may complete a wait, and when) is read whole or not at all;
/// the wait itself is <see cref="EpollOperation"/>.
/// </remarks>
internal sealed class EpollSocket : SocketIo
{
    private readonly Socket _socket;
    private readonly EpollOperation _read = new();
    private readonly EpollOperation _write = new();
    private int _readEvents = 1; // ready at first: the peer may have sent already
    private int _readDrainedAt;
    private int _writeEvents;
    private volatile bool _cancelRead;
    private volatile bool _disposed;
    private int _peerClosed;

    private EpollSocket(Socket socket, EventLoop loop)
    {
        _socket = socket;
        Handle = socket.SafeHandle;
        Loop = loop;
        loop.Register(this);
    }

    /// <summary>The socket's handle (its descriptor, safe against a concurrent close).</summary>
    public SafeSocketHandle Handle { get; }

    /// <summary>Its registration with its loop (what the loop's events carry).</summary>
    public ulong Registration { get; set; }

    /// <summary>The loop it belongs to: its waits complete on that loop's thread.</summary>
    public EventLoop Loop { get; }

    /// <summary>The socket itself (for its addresses).</summary>
    public Socket Socket => _socket;

    /// <summary>Whether it is a client's connection (its errors are IOExceptions, as Kestrel's transport's are).</summary>
    public bool IsClient { get; set; }

    /// <summary>Called once, on the loop's thread, when the peer closes or resets the connection.</summary>
    public Action? PeerClosed { get; set; }

    /// <summary>Takes over a connected socket (accepted, or connected by <see cref="ConnectAsync"/>) on <paramref name="loop"/>.</summary>
    public static EpollSocket Adopt(Socket socket, EventLoop loop)
    {
        socket.Blocking = false;
        socket.NoDelay = true;
        return new EpollSocket(socket, loop);
    }

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> without blocking, on <paramref name="loop"/>.</summary>
    public static async ValueTask<EpollSocket> ConnectAsync(string host, int port, EventLoop loop, CancellationToken cancellationToken)
    {
        var address = IPAddress.TryParse(host, out var parsed)
            ? parsed
            : (await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false))[0];
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { Blocking = false, NoDelay = true };
        EpollSocket? epoll = null;
        try
        {
            try
            {
                socket.Connect(address, port);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
            {
                // under way: it is connected (or failed) when the socket becomes writable
            }

            epoll = new EpollSocket(socket, loop);
            using (cancellationToken.UnsafeRegister(static s => ((EpollSocket)s!).Dispose(), epoll))
            {
                await epoll.WaitWritableAsync().ConfigureAwait(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            var error = (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
            if (error != SocketError.Success)
            {
                throw new SocketException((int)error);
            }

            return epoll;
        }
        catch (Exception ex) when (ex is not OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            epoll?.Dispose();
            socket.Dispose();
            throw new OperationCanceledException(cancellationToken);
        }
        catch
        {
            epoll?.Dispose();
            socket.Dispose();
            throw;
        }
    }

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer)
    {
        while (true)
        {
            if (_cancelRead)
            {
                _cancelRead = false;
                return new ValueTask<int>(Canceled);
            }

            var seen = Volatile.Read(ref _readEvents);
            if (seen != _readDrainedAt)
            {
                var received = Receive(buffer.Span, seen, out var errno);
                if (received >= 0)
                {
                    return new ValueTask<int>(received);
                }

                if (errno != EAGAIN)
                {
                    return ValueTask.FromException<int>(Error(errno));
                }
            }

            if (_disposed)
            {
                return ValueTask.FromException<int>(Error(9));
            }

            _read.Prepare(buffer);
            if (ParkReceive(seen))
            {
                return new ValueTask<int>(_read, _read.Version); // the loop completes it (or the cancel, or the closing, which took it)
            }
        }
    }

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var receiving = ReceiveAsync(buffer);
        return receiving.IsCompleted || !cancellationToken.CanBeCanceled ? receiving : AwaitedAsync(receiving, cancellationToken);

        [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(Rampart.Async.PooledValueTaskBuilder<>))]
        async ValueTask<int> AwaitedAsync(ValueTask<int> receiving, CancellationToken cancellationToken)
        {
            int count;
            using (cancellationToken.UnsafeRegister(static s => ((EpollSocket)s!).CancelPendingReceive(), this))
            {
                count = await receiving.ConfigureAwait(false);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                if (count == Canceled)
                {
                    throw new OperationCanceledException(cancellationToken);
                }

                _cancelRead = false; // the token fired as the receive completed: its cancel must not end the next one
            }

            return count;
        }
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer)
    {
        var sent = 0;
        while (true)
        {
            var seen = Volatile.Read(ref _writeEvents);
            if (!Send(buffer, ref sent, out var errno))
            {
                return errno == 0 ? default : ValueTask.FromException(Error(errno));
            }

            // No room: the rest goes when the socket becomes writable.
            if (_disposed)
            {
                return ValueTask.FromException(Error(9));
            }

            _write.Prepare(buffer, sent);
            if (ParkSend(seen))
            {
                return new ValueTask(_write, _write.Version);
            }
        }
    }

    public override unsafe bool LooksClosed()
    {
        var seen = Volatile.Read(ref _readEvents);
        if (seen == _readDrainedAt)
        {
            return _disposed; // no edge since it was drained: nothing arrived, not even an end
        }

        byte probe;
        var received = Recv(Handle, &probe, 1, MSG_PEEK | MSG_DONTWAIT, out var errno);
        if (received < 0 && errno == EAGAIN)
        {
            _readDrainedAt = seen;
            return false;
        }

        return true; // the end, a reset, or stray bytes
    }

    public override void CancelPendingReceive()
    {
        if (Interlocked.CompareExchange(ref _read.Waiting, 0, 1) == 1)
        {
            _read.Complete(Canceled);
        }
        else
        {
            _cancelRead = true;
        }
    }

    public override void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Loop.Unregister(Registration);
        _socket.Dispose();
        if (Interlocked.CompareExchange(ref _read.Waiting, 0, 1) == 1)
        {
            _read.Fail(Error(9));
        }

        if (Interlocked.CompareExchange(ref _write.Waiting, 0, 1) == 1)
        {
            _write.Fail(Error(9));
        }
    }

    /// <summary>The loop's report of an edge: completes what waited for it, on the loop's thread.</summary>
    public void OnEvents(uint events)
    {
        if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0)
        {
            Interlocked.Increment(ref _readEvents);
            if (Interlocked.CompareExchange(ref _read.Waiting, 0, 1) == 1)
            {
                ContinueReceive();
            }
        }

        if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0)
        {
            Interlocked.Increment(ref _writeEvents);
            if (Interlocked.CompareExchange(ref _write.Waiting, 0, 1) == 1)
            {
                ContinueSend();
            }
        }

        if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0 && Interlocked.Exchange(ref _peerClosed, 1) == 0)
        {
            PeerClosed?.Invoke();
        }
    }

    // A wait until the socket is writable (a connect's end), as a send of nothing.
    private ValueTask WaitWritableAsync()
    {
        _write.Prepare(ReadOnlyMemory<byte>.Empty, 0);
        Interlocked.Exchange(ref _write.Waiting, 1);
        if ((Volatile.Read(ref _writeEvents) != 0 || _disposed) && Interlocked.CompareExchange(ref _write.Waiting, 0, 1) == 1)
        {
            return _disposed ? ValueTask.FromException(Error(9)) : default; // writable before it waited (an edge since its registration), or closed
        }

        return new ValueTask(_write, _write.Version);
    }

    // The loop owns the waiting receive: one recv into its buffer, or back to waiting when there was nothing after all.
    private void ContinueReceive()
    {
        while (true)
        {
            var seen = Volatile.Read(ref _readEvents);
            var received = Receive(_read.Buffer.Span, seen, out var errno);
            if (received >= 0)
            {
                _read.Complete(received);
                return;
            }

            if (errno != EAGAIN)
            {
                _read.Fail(Error(errno));
                return;
            }

            if (ParkReceive(seen))
            {
                return;
            }
        }
    }

    // The loop owns the waiting send: the rest of its bytes, or back to waiting for room.
    private void ContinueSend()
    {
        while (true)
        {
            var seen = Volatile.Read(ref _writeEvents);
            var sent = _write.Sent;
            if (_write.Bytes.IsEmpty)
            {
                _write.Complete(0); // a connect's wait
                return;
            }

            if (!Send(_write.Bytes, ref sent, out var errno))
            {
                if (errno == 0)
                {
                    _write.Complete(0);
                }
                else
                {
                    _write.Fail(Error(errno));
                }

                return;
            }

            _write.Sent = sent;
            if (ParkSend(seen))
            {
                return;
            }
        }
    }

    // One recv: its count (0 at the end), or -1 with errno. A short one marks the socket drained as of seen.
    private unsafe int Receive(Span<byte> buffer, int seen, out int errno)
    {
        nint received;
        fixed (byte* bytes = buffer)
        {
            received = Recv(Handle, bytes, buffer.Length, MSG_DONTWAIT, out errno);
        }

        if (received < 0)
        {
            if (errno == EAGAIN)
            {
                _readDrainedAt = seen;
            }

            return -1;
        }

        if (received > 0 && received < buffer.Length)
        {
            _readDrainedAt = seen; // nginx's rule: it gave less than asked, so nothing more was there
        }

        return (int)received;
    }

    // Sends from sent on until done (false, errno 0), an error (false, errno), or no room (true).
    private unsafe bool Send(ReadOnlyMemory<byte> buffer, ref int sent, out int errno)
    {
        var span = buffer.Span;
        while (sent < span.Length)
        {
            nint count;
            fixed (byte* bytes = span[sent..])
            {
                count = EpollNative.Send(Handle, bytes, span.Length - sent, MSG_NOSIGNAL | MSG_DONTWAIT, out errno);
            }

            if (count < 0)
            {
                if (errno == EINTR)
                {
                    continue;
                }

                return errno == EAGAIN;
            }

            sent += (int)count;
        }

        errno = 0;
        return false;
    }

    // A SocketException, as .NET's sockets throw (the fast path classifies those); on a client's connection an
    // IOException around it, as Kestrel's transport gives its servers (ConnectionResetException).
    private Exception Error(int errno)
    {
        var error = new SocketException((int)ToSocketError(errno));
        return IsClient ? new Microsoft.AspNetCore.Connections.ConnectionResetException(error.Message, error) : error;
    }

    // Parks the receive: true when it now waits (the loop, a cancel or the closing completes it); false when an edge,
    // a cancel or the closing came since seen and took nothing, so the caller goes on itself.
    private bool ParkReceive(int seen)
    {
        Interlocked.Exchange(ref _read.Waiting, 1);
        return (Volatile.Read(ref _readEvents) == seen && !_cancelRead && !_disposed) || Interlocked.CompareExchange(ref _read.Waiting, 0, 1) != 1;
    }

    // The same for the send, waiting for room.
    private bool ParkSend(int seen)
    {
        Interlocked.Exchange(ref _write.Waiting, 1);
        return (Volatile.Read(ref _writeEvents) == seen && !_disposed) || Interlocked.CompareExchange(ref _write.Waiting, 0, 1) != 1;
    }
}
