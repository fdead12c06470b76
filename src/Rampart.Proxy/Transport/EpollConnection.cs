using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Rampart.Proxy.Forwarding.Fast;

namespace Rampart.Proxy.Transport;

/// <summary>
/// A client's connection on the epoll transport, as Kestrel sees it: its input read straight off the socket when the
/// server reads (no read-ahead into a pipe), its output sent when the server flushes. <c>ConnectionClosed</c> fires
/// when the client closes or resets it, or when it is aborted.
/// </summary>
internal sealed class EpollConnection : ConnectionContext, IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature,
    IConnectionLifetimeFeature, IMemoryPoolFeature, IDuplexPipe
{
    // What a server may leave unread and still ask for more: Kestrel's own request buffer limit (1 MiB).
    private const int MaxUnconsumedBytes = 1024 * 1024;

    private static long s_nextId;

    private readonly EpollSocket _socket;
    private readonly CancellationTokenSource _closed = new();
    private readonly SocketReader _input;
    private readonly SocketWriter _output;
    private IDictionary<object, object?>? _items;
    private int _aborted;

    public EpollConnection(EpollSocket socket)
    {
        _socket = socket;
        _input = new SocketReader(socket, initialBytes: 4096, maxBytes: MaxUnconsumedBytes);
        _output = new SocketWriter(socket, peerGoneCompletes: true);
        Transport = this;
        ConnectionId = "E" + Interlocked.Increment(ref s_nextId).ToString("X", System.Globalization.CultureInfo.InvariantCulture);
        LocalEndPoint = socket.Socket.LocalEndPoint;
        RemoteEndPoint = socket.Socket.RemoteEndPoint;
        var features = new FeatureCollection();
        features.Set<IConnectionIdFeature>(this);
        features.Set<IConnectionTransportFeature>(this);
        features.Set<IConnectionItemsFeature>(this);
        features.Set<IConnectionLifetimeFeature>(this);
        features.Set<IMemoryPoolFeature>(this);
        Features = features;
        socket.IsClient = true;
        socket.PeerClosed = FireClosed;
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; }

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new ConnectionItems();
        set => _items = value;
    }

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed
    {
        get => _closed.Token;
        set => throw new NotSupportedException();
    }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    /// <summary>What Kestrel's HTTP servers rent their buffers from (a block of at least 4 KiB, whatever size they ask).</summary>
    public MemoryPool<byte> MemoryPool => BlockMemoryPool.Instance;

    PipeReader IDuplexPipe.Input => _input;

    PipeWriter IDuplexPipe.Output => _output;

    public override void Abort(ConnectionAbortedException abortReason)
    {
        if (Interlocked.Exchange(ref _aborted, 1) == 0)
        {
            _socket.Dispose(); // every pending read and send ends
            FireClosed();
        }
    }

    public override ValueTask DisposeAsync()
    {
        Abort(new ConnectionAbortedException("the connection was disposed"));
        return base.DisposeAsync(); // the token source stays undisposed: Kestrel may read ConnectionClosed after this
    }

    // Off the loop's thread: what waits for the connection's end may do more than a request's work.
    private void FireClosed() => ThreadPool.UnsafeQueueUserWorkItem(static c =>
    {
        try
        {
            c._closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // disposed meanwhile: nobody waits any more
        }
    }, this, preferLocal: false);
}

/// <summary>
/// Blocks of at least 4 KiB from the shared array pool: Kestrel's servers rent with a size hint of 0 and expect a whole
/// block (its own pool's), where <see cref="MemoryPool{T}.Shared"/> would give them an empty one.
/// </summary>
internal sealed class BlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 4096;

    public static BlockMemoryPool Instance { get; } = new();

    public override int MaxBufferSize => Array.MaxLength;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1) => Shared.Rent(Math.Max(minBufferSize, BlockSize));

    protected override void Dispose(bool disposing)
    {
    }
}
