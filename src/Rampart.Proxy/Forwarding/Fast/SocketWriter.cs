using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Rampart.Async;
using Rampart.Proxy.Transport;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>
/// A connection's writing side, straight on its socket: what is written gathers in one buffer (grown when a write
/// needs more), and a flush sends it whole in one <c>send</c> (the socket goes on until every byte is out: that is the
/// back-pressure). A send that fails throws (a destination's), or, with <c>peerGoneCompletes</c> (a client's, as
/// Kestrel's transport tells its servers), ends the flush as completed. Nothing is allocated per write or flush, no segments are rented and returned (what a
/// <c>StreamPipeWriter</c> over a <c>NetworkStream</c> costs on every request). One writer at a time, as a pipe's.
/// </summary>
internal sealed class SocketWriter(SocketIo socket, int initialBytes = 4096, bool peerGoneCompletes = false) : PipeWriter
{
    private byte[] _buffer = GC.AllocateUninitializedArray<byte>(initialBytes);
    private int _written;
    private volatile bool _completed;

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _written;

    public override void Advance(int bytes)
    {
        if ((uint)bytes > (uint)(_buffer.Length - _written))
        {
            throw new ArgumentOutOfRangeException(nameof(bytes));
        }

        _written += bytes;
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint); // first: it may replace the buffer
        return _buffer.AsMemory(_written);
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_completed)
        {
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: true));
        }

        if (_written == 0)
        {
            return default;
        }

        var sending = socket.SendAsync(_buffer.AsMemory(0, _written));
        if (sending.IsCompletedSuccessfully)
        {
            _written = 0;
            return default;
        }

        return SentAsync(sending);
    }

    /// <summary>Nothing to cancel: a flush waits only for the socket, and ends when the connection is closed.</summary>
    public override void CancelPendingFlush()
    {
    }

    public override void Complete(Exception? exception = null) => _completed = true;

    // A send that waits for room (or failed): the flush ends when every byte is out.
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private async ValueTask<FlushResult> SentAsync(ValueTask sending)
    {
        try
        {
            await sending.ConfigureAwait(false);
        }
        catch (Exception ex) when (peerGoneCompletes && ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            _completed = true; // the client is gone: what it was sent goes nowhere
            _written = 0;
            return new FlushResult(isCanceled: false, isCompleted: true);
        }

        _written = 0;
        return default;
    }

    // Room for sizeHint bytes (at least one) after those written: the buffer grown when short.
    private void Reserve(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written < needed)
        {
            var grown = GC.AllocateUninitializedArray<byte>(Math.Max(_buffer.Length * 2, _written + needed));
            _buffer.AsSpan(0, _written).CopyTo(grown);
            _buffer = grown;
        }
    }
}
