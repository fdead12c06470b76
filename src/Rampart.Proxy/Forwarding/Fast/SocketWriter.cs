using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>
/// A connection's writing side, straight on its socket: what is written gathers in one buffer (grown when a write
/// needs more), and a flush sends it whole in one <c>send</c> (the socket goes on until every byte is out: that is the
/// back-pressure). Nothing is allocated per write or flush, no segments are rented and returned (what a
/// <c>StreamPipeWriter</c> over a <c>NetworkStream</c> costs on every request). One writer at a time, as a pipe's.
/// </summary>
internal sealed class SocketWriter(Socket socket, int initialBytes = 4096) : PipeWriter
{
    private byte[] _buffer = GC.AllocateUninitializedArray<byte>(initialBytes);
    private int _written;

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
        if (_written == 0)
        {
            return default;
        }

        var sending = socket.SendAsync(_buffer.AsMemory(0, _written), SocketFlags.None, cancellationToken);
        if (!sending.IsCompletedSuccessfully)
        {
            return SendRestAsync(sending, cancellationToken);
        }

        var sent = sending.Result;
        if (sent < _written)
        {
            return SendRestAsync(new ValueTask<int>(sent), cancellationToken);
        }

        _written = 0;
        return default;
    }

    public override void CancelPendingFlush() => throw new NotSupportedException("a destination's flush ends through its token");

    public override void Complete(Exception? exception = null) => _written = 0;

    // A send that waits for room, or took only part of the bytes: the rest follows until every byte is out.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FlushResult> SendRestAsync(ValueTask<int> sending, CancellationToken cancellationToken)
    {
        var sent = await sending.ConfigureAwait(false);
        while (sent < _written)
        {
            sent += await socket.SendAsync(_buffer.AsMemory(sent, _written - sent), SocketFlags.None, cancellationToken).ConfigureAwait(false);
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
