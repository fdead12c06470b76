using System.IO.Pipelines;
using System.Net.Sockets;
using Rampart.Failover;
using Rampart.Proxy.Transport;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>
/// One connection to a destination: a socket with a reader and a writer straight on it (<see cref="SocketReader"/>,
/// <see cref="SocketWriter"/>), and a timer that bounds every wait on it (the attempt timeout as an activity timeout,
/// as YARP's, on a <see cref="LazyTimeout"/>: a timestamp per wait). When the timer fires or the attempt is aborted, the
/// socket is closed: every read and send on it ends at once, and none of them registers a cancellation of its own.
/// Reused only after a request fully sent and a response fully read and well framed, with nothing left over.
/// Opened on an epoll loop while the epoll transport runs (<see cref="EventLoop.ForConnection"/>), on .NET's sockets otherwise.
/// </summary>
internal sealed class Http1Connection : IAsyncDisposable
{
    private readonly SocketIo _socket;
    private readonly TimeSpan _activityTimeout;
    private readonly LazyTimeout _activity;
    private readonly CancellationTokenRegistration _closeOnAbort;
    private CancellationTokenRegistration _attemptAbort;

    private readonly Action? _closed;
    private int _closing;

    private Http1Connection(SocketIo socket, TimeSpan activityTimeout, TimeProvider time, Action? closed)
    {
        _socket = socket;
        _closed = closed;
        _activityTimeout = activityTimeout;
        _activity = new LazyTimeout(time);
        _closeOnAbort = _activity.Token.UnsafeRegister(static s => ((SocketIo)s!).Dispose(), socket); // once per connection, not per wait
        Reader = new SocketReader(socket);
        Writer = new SocketWriter(socket);
    }

    public SocketReader Reader { get; }

    /// <summary>The epoll loop it belongs to, or null on .NET's sockets.</summary>
    public EventLoop? Loop => (_socket as EpollSocket)?.Loop;

    public PipeWriter Writer { get; }

    /// <summary>Cancelled when the activity timer fires or the attempt is cancelled (<see cref="Abort"/>).</summary>
    public CancellationToken Token => _activity.Token;

    /// <summary>Whether the waits on it were ended: the activity timer fired, or <see cref="Abort"/> (the attempt's caller tells which: a cancelled attempt is classified first).</summary>
    public bool TimedOut => _activity.IsCancelled;

    /// <summary>Whether it served a request before this one (a stale reused connection may fail before any byte of a response).</summary>
    public bool Reused { get; set; }

    /// <summary>When it went back to the pool (a timestamp).</summary>
    public long IdleSince { get; set; }

    /// <summary>Opens a connection; <paramref name="closed"/> is called once when it closes (its slot under a connection limit).</summary>
    public static async ValueTask<Http1Connection> ConnectAsync(string host, int port, TimeSpan timeout, TimeProvider time, Action? closed, CancellationToken cancellationToken)
    {
        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connectTimeout.CancelAfter(timeout);
        if (EventLoop.ForConnection is { } loop)
        {
            return new Http1Connection(await EpollSocket.ConnectAsync(host, port, loop, connectTimeout.Token).ConfigureAwait(false), timeout, time, closed);
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, connectTimeout.Token).ConfigureAwait(false);
            return new Http1Connection(new SystemSocketIo(socket), timeout, time, closed);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An exchange starts on it: the activity timeout counts from now, and <paramref name="attempt"/> (the attempt's
    /// caller leaving, or its deadline) aborts it until it is idle again (<see cref="TryIdle"/>) or closed.
    /// </summary>
    public void Begin(CancellationToken attempt)
    {
        _activity.Start(_activityTimeout);
        _attemptAbort = attempt.UnsafeRegister(static c => ((Http1Connection)c!).Abort(), this);
    }

    /// <summary>Activity, before a read or send on the socket: the activity timeout counts from now (when it passes, the socket is closed).</summary>
    public void Touch() => _activity.Touch();

    /// <summary>Activity, before a wait elsewhere (the client's request body): the activity timeout counts from now; the token ends the wait.</summary>
    public CancellationToken Arm() => _activity.Touch();

    /// <summary>Called by the attempt's cancellation: every wait on the connection ends (the socket is closed).</summary>
    public void Abort() => _activity.Cancel();

    /// <summary>
    /// Readies it for the pool: the attempt's token let go of (a caller leaving later cannot reach it in the pool or in
    /// the next request's hands) and the activity timer stopped. False when it cannot be reused (the timer fired, or it
    /// was aborted — also by an abort running as it was let go of: the release waits for it).
    /// </summary>
    public bool TryIdle()
    {
        _attemptAbort.Dispose();
        if (!_activity.TryStop())
        {
            return false;
        }

        Reused = true;
        return true;
    }

    /// <summary>Whether the destination closed it (or sent something unasked) while it sat idle: then it is not reused.</summary>
    public bool LooksClosed() => _socket.LooksClosed();

    /// <summary>Closes the connection (the socket is closed at once; nothing waits). Once: a second call does nothing.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closing, 1) == 1)
        {
            return;
        }

        // Never flushes what is left (a closed connection's bytes go nowhere) and never throws.
        var closed = new IOException("connection closed");
        Writer.Complete(closed);
        Reader.Complete(closed);
        _attemptAbort.Dispose();
        _closeOnAbort.Dispose();
        _socket.Dispose();
        _activity.Dispose();
        _closed?.Invoke();
    }

    public ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }
}
