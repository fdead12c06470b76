using System.Buffers;
using System.IO.Pipelines;
using Rampart.Failover;

namespace Rampart.Proxy.Forwarding;

/// <summary>
/// The client's request body as the forwarder reads it, straight from the server's body pipe, watched: records
/// how far reading got, whether a read failed, and whether a read was still waiting for the client when it was
/// cancelled (a stall). That is the evidence <see cref="FailureAttribution"/> needs to blame the client rather
/// than the destination. A body buffered for replay is buffered on top of this stream.
/// </summary>
/// <remarks>
/// It reads the pipe rather than Kestrel's request stream because a read cancelled through that stream's token
/// leaves Kestrel's body reader "reading", and Kestrel then fails to drain the body after the response, with an
/// error line per request that any client could multiply. Here a cancellation is a <c>CancelPendingRead</c>,
/// and every read is advanced. One per request with a body, never pooled: the forwarder may make one last read
/// after the request is over (to see the end of the body), and a recycled stream would hand it another request's
/// bytes; detached, that read fails harmlessly instead.
/// </remarks>
internal sealed class ClientBodyStream(PipeReader reader) : Stream
{
    private PipeReader? _reader = reader;
    private volatile int _progress;

    /// <summary>How far reading got in the current attempt.</summary>
    public RequestBodyProgress Progress => (RequestBodyProgress)_progress;

    /// <summary>Why reading from the client failed, when it did (Kestrel's <c>BadHttpRequestException</c> carries the status to answer).</summary>
    public Exception? Error { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>A new attempt: what it reads from the client is judged afresh.</summary>
    public void Restart()
    {
        _progress = (int)RequestBodyProgress.None;
        Error = null;
    }

    /// <summary>Stops reading: the request is over (a late read fails, and never touches the server's pipe again).</summary>
    public void Detach()
    {
        _reader = null;
        Restart();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var reader = _reader ?? throw new ObjectDisposedException(nameof(ClientBodyStream));
        while (true)
        {
            ReadResult result;
            try
            {
                using (cancellationToken.UnsafeRegister(static r => ((PipeReader)r!).CancelPendingRead(), reader))
                {
                    result = await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                // Kestrel's own rejection (malformed framing, over the size limit, too slow) or the client's reset.
                Error = ex;
                _progress = (int)RequestBodyProgress.Failed;
                throw;
            }

            var available = result.Buffer;
            if (result.IsCanceled)
            {
                reader.AdvanceTo(available.Start);
                _progress = (int)RequestBodyProgress.Stalled; // cancelled while waiting on the client
                throw new OperationCanceledException(cancellationToken);
            }

            if (available.IsEmpty && !result.IsCompleted)
            {
                reader.AdvanceTo(available.Start);
                continue; // nothing yet, and not the end: an empty read is never passed off as the end of the body
            }

            // Measured before AdvanceTo: after it the buffer's segments go back to the pool, and a multi-segment
            // slice's length is garbage (a body longer than one read once lost its tail to the next request that way).
            var length = (int)Math.Min(available.Length, buffer.Length);
            var slice = available.Slice(0, length);
            slice.CopyTo(buffer.Span);
            reader.AdvanceTo(slice.End);
            _progress = (int)(length == 0 && result.IsCompleted ? RequestBodyProgress.Complete : RequestBodyProgress.Reading);
            return length;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Like Kestrel's own request stream (AllowSynchronousIO is off): the forwarder reads asynchronously.
    public override int Read(byte[] buffer, int offset, int count) => throw new InvalidOperationException("Synchronous reads of the request body are not allowed.");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
