using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;

namespace Rampart.Proxy.Server;

/// <summary>
/// A request's body as a pipe of its own over the connection's input, by its framing: a <c>Content-Length</c> body ends
/// where it ends; a chunked body (RFC 9112 §7.1) is handed out without its framing (<see cref="ChunkedRequestFraming"/>),
/// its trailers read and dropped, as on Kestrel's path (YARP sends none over HTTP/1.1). The next request's bytes are
/// never handed out. It fails as Kestrel's body reader does — 400 when the client closes before the end or breaks the
/// chunked framing, 413 when a chunked body grows past the body size limit, 408 when it sends slower than Kestrel's
/// minimum request body data rate — and leaves the connection's pipe open. One per connection, started afresh by each
/// request with a body.
/// </summary>
internal sealed class RequestBody(TimeProvider time) : PipeReader
{
    private PipeReader _input = null!;
    private PipeWriter? _continue; // where 100 Continue goes at the first read, when the client waits for it
    private long _remaining; // a length body: what is left of it; a chunked one: what is left of the current chunk
    private ChunkedRequestFraming? _chunked; // the current body's framing; null for a length body
    private ChunkedRequestFraming? _chunkedFraming; // made at the connection's first chunked body, reused by the next
    private ReadOnlySequence<byte> _handedOut;
    private bool _reading; // a result of the connection's pipe is out (not the body's own end): AdvanceTo goes to the pipe

    // The data rate: time spent waiting on the client (pending reads only), and what came meanwhile.
    private long _received;
    private TimeSpan _waited;
    private long _waitingSince; // a timestamp; 0 when no read is pending
    private volatile bool _timedOut;

    /// <summary>Whether the whole body was read (the connection can then serve another request).</summary>
    public bool Done => _chunked?.Done ?? _remaining == 0;

    /// <summary>A new body of <paramref name="length"/> bytes; with <paramref name="sendContinueTo"/>, the client waits for <c>100 Continue</c> before it sends it.</summary>
    public void Start(PipeReader input, long length, PipeWriter? sendContinueTo) => Start(input, length, null, sendContinueTo);

    /// <summary>A new chunked body: its data, at most <paramref name="limits"/>' body size, and its trailers, within their header size.</summary>
    public void StartChunked(PipeReader input, ServerLimits limits, PipeWriter? sendContinueTo)
    {
        var framing = _chunkedFraming ??= new ChunkedRequestFraming();
        framing.Start(limits.MaxRequestBodySize, limits.MaxRequestHeadersTotalSize);
        Start(input, 0, framing, sendContinueTo);
    }

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (Done)
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

        while (true)
        {
            Volatile.Write(ref _waitingSince, time.GetTimestamp());
            ReadResult read;
            try
            {
                read = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _waited += time.GetElapsedTime(Volatile.Read(ref _waitingSince));
                Volatile.Write(ref _waitingSince, 0);
            }

            if (TryTake(read, out var result))
            {
                return result;
            }
        }
    }

    public override bool TryRead(out ReadResult result)
    {
        if (Done)
        {
            result = new ReadResult(default, isCanceled: false, isCompleted: true);
            return true;
        }

        while (_input.TryRead(out var inner))
        {
            if (TryTake(inner, out result))
            {
                return true;
            }
        }

        result = default;
        return false;
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
        _received += taken;
        if (_chunked is { } chunked)
        {
            chunked.Took(taken);
        }
        else
        {
            _remaining -= taken;
        }

        _handedOut = default;
        _input.AdvanceTo(consumed, examined); // a chunked body's framing before the data handed out goes with it
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

    private void Start(PipeReader input, long length, ChunkedRequestFraming? chunked, PipeWriter? sendContinueTo)
    {
        (_input, _remaining, _chunked, _handedOut, _continue, _reading) = (input, length, chunked, default, sendContinueTo, false);
        (_received, _waited, _waitingSince, _timedOut) = (0, TimeSpan.Zero, 0, false);
    }

    // What a read of the pipe gives the body's reader; false when it was framing only (consumed: read on).
    private bool TryTake(ReadResult inner, out ReadResult result)
    {
        var buffer = inner.Buffer;
        if (inner.IsCanceled && _timedOut)
        {
            _input.AdvanceTo(buffer.Start);
            throw new BadHttpRequestException("Reading the request body timed out due to data arriving too slowly.", StatusCodes.Status408RequestTimeout);
        }

        if (_chunked is { } chunked)
        {
            return TryTakeChunked(chunked, inner, out result);
        }

        if (buffer.Length > _remaining)
        {
            buffer = buffer.Slice(0, _remaining);
        }
        else if (inner.IsCompleted && buffer.IsEmpty && !inner.IsCanceled)
        {
            _input.AdvanceTo(buffer.Start);
            throw UnexpectedEnd();
        }

        (_handedOut, _reading) = (buffer, true);
        result = new ReadResult(buffer, inner.IsCanceled, isCompleted: buffer.Length == _remaining);
        return true;
    }

    private bool TryTakeChunked(ChunkedRequestFraming chunked, ReadResult inner, out ReadResult result)
    {
        var buffer = inner.Buffer;
        SequencePosition framed;
        long data;
        try
        {
            (framed, data) = chunked.Read(buffer);
        }
        catch (BadHttpRequestException)
        {
            _input.AdvanceTo(buffer.Start);
            throw;
        }

        if (chunked.Done)
        {
            _input.AdvanceTo(framed); // the last chunk and the trailers: the body is over, the next request follows
            result = new ReadResult(default, isCanceled: false, isCompleted: true);
            return true;
        }

        if (data > 0 || inner.IsCanceled)
        {
            var slice = buffer.Slice(framed, data);
            (_handedOut, _reading) = (slice, true);
            result = new ReadResult(slice, inner.IsCanceled, isCompleted: false);
            return true;
        }

        if (inner.IsCompleted)
        {
            _input.AdvanceTo(buffer.Start);
            throw UnexpectedEnd();
        }

        _input.AdvanceTo(framed, buffer.End); // framing read, no data yet: wait for more
        result = default;
        return false;
    }

    private static BadHttpRequestException UnexpectedEnd() => new("Unexpected end of request content.", StatusCodes.Status400BadRequest);
}
