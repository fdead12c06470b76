using Rampart.Destinations;
using Rampart.Failover;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>
/// The idle connections to one destination, lock-free (a slot array), with what every request to it writes the same
/// way (its <c>Host</c> header's bytes, its path prefix). A connection idle for long, or that the destination closed
/// meanwhile, is not reused.
/// </summary>
internal sealed class Http1Pool(DestinationEndpoint endpoint, TimeSpan connectTimeout, TimeProvider time) : IDisposable
{
    private const int MaxIdle = 256;
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CheckAfter = TimeSpan.FromSeconds(1);

    private readonly ObjectPool<Http1Connection> _idle = new(MaxIdle);
    private readonly string _host = endpoint.Address.IdnHost;
    private readonly int _port = endpoint.Address.Port;
    private volatile bool _disposed;

    /// <summary><c>Host: authority\r\n</c>, as the destination's address names it.</summary>
    public byte[] HostLine { get; } = System.Text.Encoding.ASCII.GetBytes("Host: " + endpoint.Address.Authority + "\r\n");

    /// <summary>The destination's path, without a trailing slash: what a request's path is appended to.</summary>
    public string PathPrefix { get; } = endpoint.Address.AbsolutePath.TrimEnd('/');

    /// <summary>An idle connection that still looks usable, or null.</summary>
    public Http1Connection? TryTakeIdle()
    {
        while (_idle.TryTake() is { } connection)
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

    public ValueTask<Http1Connection> ConnectAsync(CancellationToken cancellationToken) =>
        Http1Connection.ConnectAsync(_host, _port, connectTimeout, time, cancellationToken);

    /// <summary>Gives a connection that served a whole exchange back; closes it when the pool is full or disposed.</summary>
    public void Return(Http1Connection connection)
    {
        if (!_disposed && connection.TryIdle())
        {
            connection.IdleSince = time.GetTimestamp();
            if (_idle.TryReturn(connection))
            {
                return;
            }
        }

        connection.Close();
    }

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake() is { } connection)
        {
            connection.Close();
        }
    }
}
