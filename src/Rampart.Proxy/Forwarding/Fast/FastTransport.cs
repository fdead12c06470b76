using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Rampart.Failover;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>
/// Rampart's own HTTP/1.1 data path to destinations, as a transport of the core's attempt loop: pooled connections,
/// the request head written straight from Kestrel's request, a strict response parser, bodies streamed both ways with
/// back-pressure. It moves bytes only; the loop decides which destination, what a result means and whether to retry.
/// </summary>
internal sealed class FastTransport(Http1Client client, ForwardedHeaders forwarded) : IAttemptTransport<HttpContext>
{
    private const int MaxHeadBytes = 64 * 1024;
    private const int BodyBufferBytes = 16 * 1024;

    private enum Phase
    {
        Request,
        ResponseBody,
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<AttemptEnd> SendAsync(HttpContext context, AttemptLoop attempts, CancellationToken cancellationToken)
    {
        var body = context.Features.Get<ProxyAttempt>()!.Body;
        body?.Restart();
        var pool = client.PoolFor(attempts.Destination);
        var request = context.Request;
        var (framing, length) = request.ContentLength is { } declared
            ? (RequestWriter.Framing.ContentLength, declared)
            : context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true } ? (RequestWriter.Framing.Chunked, 0L) : (RequestWriter.Framing.None, 0L);
        for (var fresh = false; ; fresh = true)
        {
            var connection = fresh ? null : pool.TryTakeIdle();
            if (connection is null)
            {
                try
                {
                    connection = await pool.ConnectAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return new AttemptEnd(AttemptError.RequestCanceled);
                }
                catch (OperationCanceledException)
                {
                    return new AttemptEnd(AttemptError.Request, new TimeoutException("connect timed out"), NothingSent: true);
                }
                catch (SocketException ex)
                {
                    return new AttemptEnd(AttemptError.Request, ex, NothingSent: true);
                }
            }

            var (end, stale) = await ExchangeAsync(context, attempts, connection, pool, framing, length, body, cancellationToken).ConfigureAwait(false);
            if (stale && !fresh)
            {
                continue; // a pooled connection the destination had closed: nothing reached it, one fresh try
            }

            return end;
        }
    }

    public void PrepareRetry(HttpContext context)
    {
        context.Response.Clear();
        if (context.Request.Body.CanSeek)
        {
            context.Request.Body.Position = 0;
        }
    }

    private async ValueTask<(AttemptEnd End, bool Stale)> ExchangeAsync(
        HttpContext context, AttemptLoop attempts, Http1Connection connection, Http1Pool pool, RequestWriter.Framing framing, long length, ClientBodyStream? body, CancellationToken cancellationToken)
    {
        using var abort = cancellationToken.UnsafeRegister(static c => ((Http1Connection)c!).Abort(), connection);
        var request = context.Request;
        var response = context.Response;
        var phase = Phase.Request;
        var received = false;
        Task? sending = null;
        try
        {
            RequestWriter.WriteHead(connection.Writer, context, pool, forwarded, framing, length);
            await Flush(connection).ConfigureAwait(false);
            if (framing != RequestWriter.Framing.None)
            {
                sending = SendBodyAsync(connection, request.Body, framing == RequestWriter.Framing.Chunked);
            }

            var head = ResponseHeadPool.Rent();
            try
            {
                while (true)
                {
                    var result = await connection.Reader.ReadAsync(connection.Arm()).ConfigureAwait(false);
                    var buffer = result.Buffer;
                    var headLength = ResponseParser.FindHead(buffer, MaxHeadBytes);
                    if (headLength < 0)
                    {
                        received |= !buffer.IsEmpty;
                        if (result.IsCompleted)
                        {
                            connection.Reader.AdvanceTo(buffer.End);
                            throw new ConnectionClosedException(received ? "connection closed inside a response head" : "connection closed before a response");
                        }

                        connection.Reader.AdvanceTo(buffer.Start, buffer.End);
                        continue;
                    }

                    received = true;
                    if (sending is { IsCompleted: false } && !IsInterim(buffer))
                    {
                        // As SocketsHttpHandler does: the request goes out whole before its response is passed on (a client
                        // that stalls its body is answered 408 on both paths, and the connection stays in step).
                        connection.Reader.AdvanceTo(buffer.Start, buffer.Start);
                        await sending.ConfigureAwait(false);
                        continue;
                    }

                    var headBytes = buffer.Slice(0, headLength);
                    var verdict = PassOn(headBytes, request, response, attempts, head);
                    connection.Reader.AdvanceTo(headBytes.End);
                    if (head.Status is >= 100 and < 200 and not 101)
                    {
                        continue; // an interim response (100 Continue, 103 Early Hints): the final one follows
                    }

                    if (verdict != ResponseVerdict.PassOn)
                    {
                        await CloseAsync(connection, sending).ConfigureAwait(false); // kept from the client: its body is not read, the connection not reused
                        return (AttemptEnd.Received, false);
                    }

                    break;
                }

                phase = Phase.ResponseBody;
                var complete = await CopyBodyAsync(connection, head, response).ConfigureAwait(false);
                var requestSent = sending is null || (sending.IsCompleted && sending.IsCompletedSuccessfully);
                if (complete && head.KeepAlive && requestSent && NothingLeftOver(connection))
                {
                    pool.Return(connection);
                }
                else
                {
                    await CloseAsync(connection, sending).ConfigureAwait(false);
                }

                return (AttemptEnd.Received, false);
            }
            finally
            {
                ResponseHeadPool.Return(head);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            connection.NoteTimeout();
            await CloseAsync(connection, sending).ConfigureAwait(false);
            var stale = connection.Reused && !received && phase == Phase.Request && (body?.Progress ?? RequestBodyProgress.None) == RequestBodyProgress.None
                && ex is ConnectionClosedException or IOException { InnerException: SocketException } or SocketException;
            var cancelled = ex is OperationCanceledException && cancellationToken.IsCancellationRequested; // the caller left or the deadline passed
            return (Describe(ex, phase, connection.TimedOut, cancelled, body, response), stale);
        }
    }

    // Whether the head at the start of the buffer is an interim response (1xx but 101): "HTTP/1.x 1xx".
    private static bool IsInterim(in ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length < 12)
        {
            return false;
        }

        Span<byte> start = stackalloc byte[12];
        buffer.Slice(0, 12).CopyTo(start);
        return start[9] == (byte)'1' && !start[9..12].SequenceEqual("101"u8);
    }

    // Parses the head and asks the loop; on PassOn copies status and headers into the client's response.
    private static ResponseVerdict PassOn(in ReadOnlySequence<byte> headBytes, HttpRequest request, HttpResponse response, AttemptLoop attempts, ResponseHead head)
    {
        byte[]? rented = null;
        var span = headBytes.IsSingleSegment ? headBytes.FirstSpan : Flatten(headBytes, out rented);
        try
        {
            ResponseParser.Parse(span, HttpMethods.IsHead(request.Method), head);
            if (head.Status is >= 100 and < 200 and not 101)
            {
                return ResponseVerdict.PassOn;
            }

            // The fast path takes no upgrade requests (they go the YARP way): a 101 here was never asked for.
            var verdict = attempts.OnResponse(head.Status, unexpectedUpgrade: head.Status == 101);
            if (verdict == ResponseVerdict.PassOn)
            {
                response.StatusCode = head.Status;
                ResponseHeaders.Copy(span, head, response);
            }

            return verdict;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static ReadOnlySpan<byte> Flatten(in ReadOnlySequence<byte> bytes, out byte[] rented)
    {
        rented = ArrayPool<byte>.Shared.Rent((int)bytes.Length);
        bytes.CopyTo(rented);
        return rented.AsSpan(0, (int)bytes.Length);
    }

    private static async Task SendBodyAsync(Http1Connection connection, Stream body, bool chunked)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BodyBufferBytes);
        try
        {
            while (true)
            {
                var read = await body.ReadAsync(buffer.AsMemory(), connection.Arm()).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                if (chunked)
                {
                    ChunkedBody.WriteChunk(connection.Writer, buffer.AsSpan(0, read));
                }
                else
                {
                    connection.Writer.Write(buffer.AsSpan(0, read));
                }

                await Flush(connection).ConfigureAwait(false);
            }

            if (chunked)
            {
                connection.Writer.Write("0\r\n\r\n"u8);
                await Flush(connection).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Copies the response body by its framing; true when it ended as framed (the connection may be reused).</summary>
    private static async ValueTask<bool> CopyBodyAsync(Http1Connection connection, ResponseHead head, HttpResponse response)
    {
        var reader = connection.Reader;
        var writer = response.BodyWriter;
        switch (head.Framing)
        {
            case BodyFraming.None:
                return true;
            case BodyFraming.ContentLength:
                await CopyAsync(connection, writer, head.ContentLength).ConfigureAwait(false);
                return true;
            case BodyFraming.Chunked:
                while (true)
                {
                    var result = await reader.ReadAsync(connection.Arm()).ConfigureAwait(false);
                    if (!ChunkedBody.TryReadSize(result.Buffer, out var size, out var consumed))
                    {
                        reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                        ThrowIfEnded(result, "inside a chunk size line");
                        continue;
                    }

                    reader.AdvanceTo(result.Buffer.GetPosition(consumed));
                    if (size == 0)
                    {
                        while (true)
                        {
                            result = await reader.ReadAsync(connection.Arm()).ConfigureAwait(false);
                            if (ChunkedBody.TrySkipTrailers(result.Buffer, out var trailers))
                            {
                                reader.AdvanceTo(result.Buffer.GetPosition(trailers)); // trailers are not passed on
                                return true;
                            }

                            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                            ThrowIfEnded(result, "inside the trailers");
                        }
                    }

                    await CopyAsync(connection, writer, size).ConfigureAwait(false);
                    while (true)
                    {
                        result = await reader.ReadAsync(connection.Arm()).ConfigureAwait(false);
                        if (ChunkedBody.TryReadDataEnd(result.Buffer))
                        {
                            reader.AdvanceTo(result.Buffer.GetPosition(2));
                            break;
                        }

                        reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                        ThrowIfEnded(result, "after a chunk's data");
                    }
                }

            default: // until the destination closes
                while (true)
                {
                    var result = await reader.ReadAsync(connection.Arm()).ConfigureAwait(false);
                    foreach (var segment in result.Buffer)
                    {
                        writer.Write(segment.Span);
                    }

                    reader.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        return false;
                    }

                    await FlushToClient(writer).ConfigureAwait(false);
                }
        }
    }

    // Copies exactly `remaining` bytes from the destination to the client, flushing as it goes (back-pressure) but the last.
    private static async ValueTask CopyAsync(Http1Connection connection, System.IO.Pipelines.PipeWriter writer, long remaining)
    {
        var reader = connection.Reader;
        while (remaining > 0)
        {
            var result = await reader.ReadAsync(connection.Arm()).ConfigureAwait(false);
            var buffer = result.Buffer;
            var take = Math.Min(remaining, buffer.Length);
            foreach (var segment in buffer.Slice(0, take))
            {
                writer.Write(segment.Span);
            }

            reader.AdvanceTo(buffer.GetPosition(take));
            remaining -= take;
            if (remaining > 0)
            {
                ThrowIfEnded(result, "before the end of the body");
                await FlushToClient(writer).ConfigureAwait(false);
            }
        }
    }

    private static async ValueTask FlushToClient(System.IO.Pipelines.PipeWriter writer)
    {
        var flushed = await writer.FlushAsync().ConfigureAwait(false);
        if (flushed.IsCanceled || flushed.IsCompleted)
        {
            throw new ClientGoneException();
        }
    }

    private static async ValueTask Flush(Http1Connection connection)
    {
        var flushed = await connection.Writer.FlushAsync(connection.Arm()).ConfigureAwait(false);
        if (flushed.IsCanceled)
        {
            throw new OperationCanceledException(connection.Token); // the timer fired or the attempt was cancelled: the pipe is done
        }

        if (flushed.IsCompleted)
        {
            throw new ConnectionClosedException("the destination stopped reading");
        }
    }

    private static void ThrowIfEnded(System.IO.Pipelines.ReadResult result, string where)
    {
        if (result.IsCompleted)
        {
            throw new ConnectionClosedException("connection closed " + where);
        }
    }

    // After a whole response, nothing more may have arrived: bytes of another response must never be read as the next one's.
    private static bool NothingLeftOver(Http1Connection connection)
    {
        if (!connection.Reader.TryRead(out var result))
        {
            return true;
        }

        var clean = result.Buffer.IsEmpty && !result.IsCompleted;
        connection.Reader.AdvanceTo(result.Buffer.Start);
        return clean;
    }

    // Ends every wait on the connection, lets the request body's copy finish (it writes to the connection), then closes it.
    private static async ValueTask CloseAsync(Http1Connection connection, Task? sending)
    {
        connection.Abort();
        if (sending is not null)
        {
            try
            {
                await sending.ConfigureAwait(false);
            }
#pragma warning disable CA1031 // whatever ended the copy, the attempt is already over; the body's watch recorded the client's part
            catch (Exception)
            {
            }
#pragma warning restore CA1031
        }

        connection.Close();
    }

    private static AttemptEnd Describe(Exception ex, Phase phase, bool timedOut, bool cancelled, ClientBodyStream? body, HttpResponse response)
    {
        var error = ex switch
        {
            _ when cancelled => AttemptError.RequestCanceled, // the loop tells the caller's leaving from the deadline
            ClientGoneException => AttemptError.ResponseBodyClient,
            _ when body?.Error is not null => AttemptError.RequestBodyClient,
            _ when phase == Phase.ResponseBody => AttemptError.ResponseBodyDestination,
            _ when timedOut => AttemptError.RequestTimedOut,
            _ => AttemptError.Request,
        };
        var status = body?.Error is Microsoft.AspNetCore.Http.BadHttpRequestException bad ? bad.StatusCode : 0;
        return new AttemptEnd(error, body?.Error ?? ex, body?.Progress ?? RequestBodyProgress.None, NothingSent: false, ResponseStarted: response.HasStarted, CallerStatus: status);
    }

    private sealed class ConnectionClosedException(string message) : IOException(message);

    private sealed class ClientGoneException() : IOException("the client went away");
}
