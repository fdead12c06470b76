using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Rampart.Async;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>
/// The fast path's bodies, both ways: the client's request body to the destination (as it was framed: by length, or
/// chunked afresh), and the destination's response body to the client by its framing (length, chunked, until close),
/// with back-pressure on both sides.
/// </summary>
internal static class Http1Bodies
{
    private const int BodyBufferBytes = 16 * 1024;

    /// <summary>Sends the request body; the request head went first.</summary>
    public static async Task SendAsync(Http1Connection connection, Stream body, bool chunked)
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

                await FlushAsync(connection).ConfigureAwait(false);
            }

            if (chunked)
            {
                connection.Writer.Write("0\r\n\r\n"u8);
                await FlushAsync(connection).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Copies the response body by its framing; true when it ended as framed (the connection may be reused).</summary>
    /// <remarks>No body, or a length body already received whole (the usual small response): done without suspending.</remarks>
    public static ValueTask<bool> CopyResponseAsync(Http1Connection connection, ResponseHead head, IFastExchange client)
    {
        switch (head.Framing)
        {
            case BodyFraming.None:
                return new ValueTask<bool>(true);
            case BodyFraming.ContentLength:
                var remaining = CopyReceived(connection, client, head.ContentLength);
                return remaining == 0 ? new ValueTask<bool>(true) : CopyRestAsync(connection, client, remaining, flush: remaining < head.ContentLength);
            default:
                return CopyFramedAsync(connection, head, client);
        }
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<bool> CopyRestAsync(Http1Connection connection, IFastExchange client, long remaining, bool flush)
    {
        if (flush)
        {
            await client.FlushBodyAsync().ConfigureAwait(false); // what was passed on goes out before the wait for more
        }

        await CopyAsync(connection, client, remaining).ConfigureAwait(false);
        return true;
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<bool> CopyFramedAsync(Http1Connection connection, ResponseHead head, IFastExchange client)
    {
        var reader = connection.Reader;
        switch (head.Framing)
        {
            case BodyFraming.Chunked:
                while (true)
                {
                    var result = await ReadAsync(connection).ConfigureAwait(false);
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
                            result = await ReadAsync(connection).ConfigureAwait(false);
                            if (ChunkedBody.TrySkipTrailers(result.Buffer, out var trailers))
                            {
                                reader.AdvanceTo(result.Buffer.GetPosition(trailers)); // trailers are not passed on
                                return true;
                            }

                            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                            ThrowIfEnded(result, "inside the trailers");
                        }
                    }

                    await CopyAsync(connection, client, size).ConfigureAwait(false);
                    while (true)
                    {
                        result = await ReadAsync(connection).ConfigureAwait(false);
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
                    var result = await ReadAsync(connection).ConfigureAwait(false);
                    foreach (var segment in result.Buffer)
                    {
                        client.WriteBody(segment.Span);
                    }

                    reader.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        return false;
                    }

                    await client.FlushBodyAsync().ConfigureAwait(false);
                }
        }
    }

    // Passes on what of the next `length` bytes was already received, without waiting; returns how many are left.
    private static long CopyReceived(Http1Connection connection, IFastExchange client, long length)
    {
        if (length == 0 || !connection.Reader.TryRead(out var result))
        {
            return length;
        }

        var take = Math.Min(length, result.Buffer.Length);
        foreach (var segment in result.Buffer.Slice(0, take))
        {
            client.WriteBody(segment.Span);
        }

        connection.Reader.AdvanceTo(result.Buffer.GetPosition(take));
        length -= take;
        if (length > 0)
        {
            ThrowIfEnded(result, "before the end of the body");
        }

        return length;
    }

    // Copies exactly `remaining` bytes from the destination to the client, flushing as it goes (back-pressure) but the last.
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder))]
    private static async ValueTask CopyAsync(Http1Connection connection, IFastExchange client, long remaining)
    {
        var reader = connection.Reader;
        while (remaining > 0)
        {
            var result = await ReadAsync(connection).ConfigureAwait(false);
            var buffer = result.Buffer;
            var take = Math.Min(remaining, buffer.Length);
            foreach (var segment in buffer.Slice(0, take))
            {
                client.WriteBody(segment.Span);
            }

            reader.AdvanceTo(buffer.GetPosition(take));
            remaining -= take;
            if (remaining > 0)
            {
                ThrowIfEnded(result, "before the end of the body");
                await client.FlushBodyAsync().ConfigureAwait(false);
            }
        }
    }

    // A read of the destination's bytes: its activity timer bounds it (by closing the socket: no token per read).
    private static ValueTask<ReadResult> ReadAsync(Http1Connection connection)
    {
        connection.Touch();
        return connection.Reader.ReadAsync();
    }

    /// <summary>Flushes a client's pipe: back-pressure, and <see cref="ClientGoneException"/> when the client is gone.</summary>
    public static ValueTask FlushToClientAsync(PipeWriter writer)
    {
        var flushing = writer.FlushAsync();
        if (!flushing.IsCompletedSuccessfully)
        {
            return AwaitClientFlushAsync(flushing);
        }

        ThrowIfClientGone(flushing.Result);
        return default;
    }

    /// <summary>Sends what was written to the destination; its activity timer bounds the wait.</summary>
    public static ValueTask FlushAsync(Http1Connection connection)
    {
        connection.Touch();
        var flushing = connection.Writer.FlushAsync();
        if (!flushing.IsCompletedSuccessfully)
        {
            return AwaitFlushAsync(connection, flushing);
        }

        ThrowIfNotFlushed(connection, flushing.Result);
        return default;
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder))]
    private static async ValueTask AwaitClientFlushAsync(ValueTask<FlushResult> flushing) => ThrowIfClientGone(await flushing.ConfigureAwait(false));

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder))]
    private static async ValueTask AwaitFlushAsync(Http1Connection connection, ValueTask<FlushResult> flushing) =>
        ThrowIfNotFlushed(connection, await flushing.ConfigureAwait(false));

    private static void ThrowIfClientGone(FlushResult flushed)
    {
        if (flushed.IsCanceled || flushed.IsCompleted)
        {
            throw new ClientGoneException();
        }
    }

    private static void ThrowIfNotFlushed(Http1Connection connection, FlushResult flushed)
    {
        if (flushed.IsCanceled)
        {
            throw new OperationCanceledException(connection.Token); // the timer fired or the attempt was cancelled: the pipe is done
        }

        if (flushed.IsCompleted)
        {
            throw new ConnectionClosedException("the destination stopped reading");
        }
    }

    private static void ThrowIfEnded(ReadResult result, string where)
    {
        if (result.IsCompleted)
        {
            throw new ConnectionClosedException("connection closed " + where);
        }
    }

    /// <summary>The destination closed the connection (or stopped reading) before the exchange was whole.</summary>
    public sealed class ConnectionClosedException(string message) : IOException(message);

    /// <summary>The client's side of the response went away.</summary>
    public sealed class ClientGoneException() : IOException("the client went away");
}
