using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Rampart.Async;
using Rampart.Proxy.Transport;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>
/// A connection's reading side, straight on its socket: one buffer, read into at its free end, what was consumed
/// dropped from its start, its content moved to the front (or the buffer grown, up to <see cref="MaxBytes"/>) only when
/// a read needs room. Every read is one <c>recv</c>; nothing is allocated per read, and no segment list is kept (what a
/// <c>StreamPipeReader</c> over a <c>NetworkStream</c> costs on every response). One reader at a time, as a pipe's.
/// A read is cancelled (<see cref="CancelPendingRead"/>, or its token) only where the socket supports it (the epoll
/// transport's client connections, which Kestrel's server reads); a destination's read ends when its socket is closed.
/// </summary>
internal sealed class SocketReader(SocketIo socket, int initialBytes = 8192, int maxBytes = SocketReader.MaxBytes) : PipeReader
{
    /// <summary>The most a destination's reader holds unconsumed: a response head must fit (<c>FastTransport</c> refuses longer ones first).</summary>
    public const int MaxBytes = 128 * 1024;

    private byte[] _buffer = GC.AllocateUninitializedArray<byte>(initialBytes);
    private int _start; // first unconsumed byte
    private int _end; // end of what was received
    private int _examined; // the reader saw up to here: a read returns at once when there is more (or the end)
    private bool _eof;
    private bool _completed;

    public override bool TryRead(out ReadResult result)
    {
        if (_completed)
        {
            throw new InvalidOperationException("the reader was completed");
        }

        if (_end > _examined || _eof)
        {
            result = Result();
            return true;
        }

        result = default;
        return false;
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (TryRead(out var buffered))
        {
            return new ValueTask<ReadResult>(buffered);
        }

        var receiving = cancellationToken.CanBeCanceled ? socket.ReceiveAsync(MakeRoom(), cancellationToken) : ReceiveAsync();
        if (receiving.IsCompletedSuccessfully)
        {
            return new ValueTask<ReadResult>(Received(receiving.Result));
        }

        return Awaited(receiving);
    }

    /// <summary>
    /// A read without the <see cref="ReadAsync"/> wrapper, for a caller that awaits the socket itself (one async frame
    /// less on the way of every response): the bytes of one <c>recv</c>; pass its count to <see cref="Received"/>.
    /// </summary>
    public ValueTask<int> ReceiveAsync() => socket.ReceiveAsync(MakeRoom());

    /// <summary>What there is after a <see cref="ReceiveAsync"/> that received <paramref name="count"/> bytes (0: the end).</summary>
    public ReadResult Received(int count)
    {
        if (count == SocketIo.Canceled)
        {
            return new ReadResult(new ReadOnlySequence<byte>(_buffer, _start, _end - _start), isCanceled: true, isCompleted: _eof);
        }

        if (count == 0)
        {
            _eof = true;
        }

        _end += count;
        return Result();
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var start = Index(consumed);
        var seen = Index(examined);
        if (start < _start || start > _end || seen < start || seen > _end)
        {
            throw new ArgumentOutOfRangeException(nameof(consumed), "a position outside the last read");
        }

        _start = start;
        _examined = seen;
        if (_start == _end)
        {
            _start = _end = _examined = 0; // all consumed: the next read starts at the front
        }
    }

    public override void CancelPendingRead() => socket.CancelPendingReceive();

    public override void Complete(Exception? exception = null) => _completed = true;

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private async ValueTask<ReadResult> Awaited(ValueTask<int> receiving) => Received(await receiving.ConfigureAwait(false));

    private ReadResult Result() =>
        new(new ReadOnlySequence<byte>(_buffer, _start, _end - _start), isCanceled: false, isCompleted: _eof);

    // Room after what is held: the held bytes moved to the front when the free end is short, the buffer doubled when full.
    private Memory<byte> MakeRoom()
    {
        if (_end == _buffer.Length || _buffer.Length - _end < 1024)
        {
            var held = _end - _start;
            if (held > _buffer.Length / 2)
            {
                if (_buffer.Length >= maxBytes)
                {
                    throw new InvalidOperationException("more than " + maxBytes + " bytes held unconsumed");
                }

                var grown = GC.AllocateUninitializedArray<byte>(_buffer.Length * 2);
                _buffer.AsSpan(_start, held).CopyTo(grown);
                _buffer = grown;
            }
            else
            {
                _buffer.AsSpan(_start, held).CopyTo(_buffer);
            }

            _examined -= _start;
            _start = 0;
            _end = held;
        }

        return _buffer.AsMemory(_end);
    }

    private int Index(SequencePosition position) =>
        ReferenceEquals(position.GetObject(), _buffer) || position.GetObject() is null ? position.GetInteger() : throw new ArgumentException("a position of another buffer");
}
