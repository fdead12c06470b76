using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;

namespace Rampart.Proxy.Server;

/// <summary>
/// A request's <c>Content-Length</c> body as a pipe of its own over the connection's input: it ends where the body
/// ends (the next request's bytes are never handed out), fails as Kestrel's body reader does — 400 when the client
/// closes before the end, 408 when it sends slower than Kestrel's minimum request body data rate — and leaves the
/// connection's pipe open. One per connection, started afresh by each request with a body.
/// </summary>
internal sealed class ContentLengthBody(TimeProvider time) : PipeReader
{
    private PipeReader _input = null!;
    private PipeWriter? _continue; // where 100 Continue goes at the first read, when the client waits for it
    private long _remaining;
    private ReadOnlySequence<byte> _handedOut;
    private bool _reading; // a result of the connection's pipe is out (not the body's own end): AdvanceTo goes to the pipe

    // The data rate: time spent waiting on the client (pending reads only), and what came meanwhile.
    private long _received;
    private TimeSpan _waited;
    private long _waitingSince; // a timestamp; 0 when no read is pending
    private volatile bool _timedOut;

    /// <summary>Whether the whole body was read (the connection can then serve another request).</summary>
    public bool Done => _remaining == 0;

    /// <summary>A new body of <paramref name="length"/> bytes; with <paramref name="sendContinueTo"/>, the client waits for <c>100 Continue</c> before it sends it.</summary>
    public void Start(PipeReader input, long length, PipeWriter? sendContinueTo)
    {
        (_input, _remaining, _handedOut, _continue, _reading) = (input, length, default, sendContinueTo, false);
        (_received, _waited, _waitingSince, _timedOut) = (0, TimeSpan.Zero, 0, false);
    }

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (_remaining == 0)
        {
            return new ReadResult(default, isCanceled: false, isCompleted: true);
        }

        if (_continue is { } output)
        {
            // The body is wanted now: the client may send it (Kestrel says so at the same moment).
            _continue = null;
            output.Write("HTTP/1.1 100 Continue\r\n\r\n"u8);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        Volatile.Write(ref _waitingSince, time.GetTimestamp());
        ReadResult result;
        try
        {
            result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _waited += time.GetElapsedTime(Volatile.Read(ref _waitingSince));
            Volatile.Write(ref _waitingSince, 0);
        }

        return Take(result);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (_remaining == 0)
        {
            result = new ReadResult(default, isCanceled: false, isCompleted: true);
            return true;
        }

        if (!_input.TryRead(out var inner))
        {
            result = default;
            return false;
        }

        result = Take(inner);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (!_reading)
        {
            return; // the end of the body was handed out, not a read of the pipe: nothing to give back
        }

        _reading = false;
        var taken = _handedOut.Slice(0, consumed).Length; // measured before the segments go back to the pool
        _remaining -= taken;
        _received += taken;
        _handedOut = default;
        _input.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => _input.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        // The connection's input is not this body's to complete.
    }

    /// <summary>
    /// Whether the client has sent slower than <paramref name="limits"/>' minimum rate: over the grace period, counting
    /// only the time a read waited on it (as Kestrel counts). Called by the connection's heartbeat (<paramref name="now"/>: a
    /// timestamp of the same clock); ends the waiting read.
    /// </summary>
    public void CheckRate(long now, ServerLimits limits)
    {
        var since = Volatile.Read(ref _waitingSince);
        if (limits.MinRequestBodyDataRate <= 0 || since == 0 || _timedOut)
        {
            return;
        }

        var waited = _waited + time.GetElapsedTime(since, now);
        if (waited > limits.MinRequestBodyDataRateGracePeriod && _received < limits.MinRequestBodyDataRate * waited.TotalSeconds)
        {
            _timedOut = true;
            _input.CancelPendingRead();
        }
    }

    private ReadResult Take(ReadResult inner)
    {
        var buffer = inner.Buffer;
        if (inner.IsCanceled && _timedOut)
        {
            _input.AdvanceTo(buffer.Start);
            throw new BadHttpRequestException("Reading the request body timed out due to data arriving too slowly.", StatusCodes.Status408RequestTimeout);
        }

        if (buffer.Length > _remaining)
        {
            buffer = buffer.Slice(0, _remaining);
        }
        else if (inner.IsCompleted && buffer.IsEmpty && !inner.IsCanceled)
        {
            _input.AdvanceTo(buffer.Start);
            throw new BadHttpRequestException("Unexpected end of request content.", StatusCodes.Status400BadRequest);
        }

        (_handedOut, _reading) = (buffer, true);
        return new ReadResult(buffer, inner.IsCanceled, isCompleted: buffer.Length == _remaining);
    }
}
