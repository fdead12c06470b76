using Rampart.Destinations;
using Rampart.Failover;
using Rampart.Proxy.Transport;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>
/// The idle connections to one destination, lock-free (a slot array), with what every request to it writes the same
/// way (its <c>Host</c> header's bytes, its path prefix). A connection idle for long, or that the destination closed
/// meanwhile, is not reused. With <c>MaxConnectionsPerDestination</c> (<paramref name="maxConnections"/> &gt; 0), at
/// most that many are open at once and the requests beyond wait for one (<see cref="ConnectionLimit"/>).
/// </summary>
internal sealed class Http1Pool(DestinationEndpoint endpoint, TimeSpan connectTimeout, TimeProvider time, int maxConnections = 0) : IDisposable
{
    private const int MaxIdle = 256;
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CheckAfter = TimeSpan.FromSeconds(1);

    private readonly ObjectPool<Http1Connection> _idle = new(MaxIdle); // on .NET's sockets
    private ObjectPool<Http1Connection>?[]? _idleOnLoops; // per epoll loop: a request on a loop takes its own loop's
    private readonly ConnectionLimit? _limit = maxConnections > 0 ? new ConnectionLimit(maxConnections) : null;
    private readonly string _host = endpoint.Address.IdnHost;
    private readonly int _port = endpoint.Address.Port;
    private volatile bool _disposed;

    /// <summary><c>Host: authority\r\n</c>, as the destination's address names it.</summary>
    public byte[] HostLine { get; } = System.Text.Encoding.ASCII.GetBytes("Host: " + endpoint.Address.Authority + "\r\n");

    /// <summary>The destination's path, without a trailing slash: what a request's path is appended to.</summary>
    public string PathPrefix { get; } = endpoint.Address.AbsolutePath.TrimEnd('/');

    /// <summary>
    /// An idle connection that still looks usable, or null. On an epoll loop only that loop's own (or one opened before
    /// the loops ran), as nginx's workers keep their own: its response then wakes the thread serving the request, and
    /// no request waits on another loop's thread — unless a connection limit forbids opening one more, when any loop's
    /// will do. Off the loops, any.
    /// </summary>
    public Http1Connection? TryTakeIdle()
    {
        if (_idleOnLoops is { } loops)
        {
            var current = EventLoop.Current;
            var searched = current is null || _limit is not null ? loops.Length : 1;
            var first = current?.Index ?? 0;
            for (var i = 0; i < searched; i++)
            {
                if (loops[(first + i) % loops.Length] is { } pool && TryTakeIdle(pool) is { } connection)
                {
                    return connection;
                }
            }
        }

        return TryTakeIdle(_idle);
    }

    private Http1Connection? TryTakeIdle(ObjectPool<Http1Connection> pool)
    {
        while (pool.TryTake() is { } connection)
        {
            var idle = time.GetElapsedTime(connection.IdleSince);
            if (idle < IdleTimeout && (idle < CheckAfter || !connection.LooksClosed()))
            {
                return connection;
            }

            connection.Close();
        }

        return null;
    }

    /// <summary>Connections open to the destination now (counted only under a limit; 0 without one).</summary>
    public int Open => _limit?.Open ?? 0;

    /// <summary>
    /// A new connection; under a limit with every slot taken, the first connection another request is done with (or
    /// a new one in the first slot freed), waiting within <paramref name="cancellationToken"/>.
    /// </summary>
    public async ValueTask<Http1Connection> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_limit is null)
        {
            return await Http1Connection.ConnectAsync(_host, _port, connectTimeout, time, null, cancellationToken).ConfigureAwait(false);
        }

        if (!_limit.TryOpen() && await _limit.WaitAsync(TryTakeIdle, Return, cancellationToken).ConfigureAwait(false) is { } handedOver)
        {
            return handedOver;
        }

        try
        {
            return await Http1Connection.ConnectAsync(_host, _port, connectTimeout, time, _limit.Closed, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _limit.Closed(); // the slot it was to use
            throw;
        }
    }

    /// <summary>Gives a connection that served a whole exchange back; closes it when the pool is full or disposed.</summary>
    public void Return(Http1Connection connection)
    {
        if (!_disposed && connection.TryIdle())
        {
            connection.IdleSince = time.GetTimestamp();
            if (_limit is { HasWaiters: true } && _limit.TryHandOver(connection))
            {
                return; // a request waited for it
            }

            if (IdleOf(connection).TryReturn(connection))
            {
                // A request that began to wait as it went idle takes it now (it looked before this one was back).
                if (_limit is { HasWaiters: true } && TryTakeIdle() is { } idle && !_limit.TryHandOver(idle) && !IdleOf(idle).TryReturn(idle))
                {
                    idle.Close(); // the pool filled up meanwhile: closed (its slot freed), never dropped open
                }

                return;
            }
        }

        connection.Close();
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var idle in (_idleOnLoops ?? []).Append(_idle))
        {
            while (idle?.TryTake() is { } connection)
            {
                connection.Close();
            }
        }
    }

    // Where an idle connection waits: with the others of its loop, or of .NET's sockets.
    private ObjectPool<Http1Connection> IdleOf(Http1Connection connection)
    {
        if (connection.Loop is not { } loop)
        {
            return _idle;
        }

        var loops = _idleOnLoops ?? Interlocked.CompareExchange(ref _idleOnLoops, new ObjectPool<Http1Connection>?[EventLoop.Count], null) ?? _idleOnLoops;
        return loops[loop.Index] ?? Interlocked.CompareExchange(ref loops[loop.Index], new ObjectPool<Http1Connection>(MaxIdle), null) ?? loops[loop.Index]!;
    }
}
