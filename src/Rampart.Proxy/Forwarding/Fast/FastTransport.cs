using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Rampart.Async;
using Rampart.Failover;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>
/// Rampart's own HTTP/1.1 data path to destinations, as a transport of the core's attempt loop: pooled connections,
/// the request head written straight from Kestrel's request, a strict response parser, bodies streamed both ways with
/// back-pressure. It moves bytes only; the loop decides which destination, what a result means and whether to retry.
/// The client's side is an <see cref="IFastExchange"/>: Kestrel's request, or Rampart's own server's.
/// </summary>
internal sealed class FastTransport(Http1Client client, ForwardedHeaders forwarded) : IAttemptTransport<IFastExchange>
{
    private const int MaxHeadBytes = 64 * 1024;

    private enum Phase
    {
        Request,
        ResponseBody,
    }

    public ValueTask<AttemptEnd> SendAsync(IFastExchange exchange, AttemptLoop attempts, CancellationToken cancellationToken)
    {
        var body = exchange.Body;
        body?.Restart();
        var pool = client.PoolFor(attempts.Destination);
        return ExchangeAsync(exchange, attempts, pool.TryTakeIdle(), pool, body, cancellationToken);
    }

    public void PrepareRetry(IFastExchange exchange) => exchange.PrepareRetry();

    // One attempt: on the idle connection given, or a new one; a pooled connection found closed is replaced once.
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private async ValueTask<AttemptEnd> ExchangeAsync(
        IFastExchange exchange, AttemptLoop attempts, Http1Connection? connection, Http1Pool pool, ClientBodyStream? body, CancellationToken cancellationToken)
    {
        for (var fresh = connection is null; ; fresh = true)
        {
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

            connection.Begin(cancellationToken); // until the connection is idle again or closed: never in the pool
            var phase = Phase.Request;
            var received = false;
            Task? sending = null;
            try
            {
                exchange.WriteHead(connection.Writer, pool, forwarded);
                await Http1Bodies.FlushAsync(connection).ConfigureAwait(false);
                if (exchange.Framing != RequestWriter.Framing.None)
                {
                    sending = Http1Bodies.SendAsync(connection, exchange.RequestBody!, exchange.Framing == RequestWriter.Framing.Chunked);
                }

                var head = ResponseHeadPool.Rent();
                try
                {
                    while (true)
                    {
                        if (!connection.Reader.TryRead(out var result))
                        {
                            connection.Touch();
                            result = connection.Reader.Received(await connection.Reader.ReceiveAsync().ConfigureAwait(false));
                        }

                        var buffer = result.Buffer;
                        var headLength = ResponseParser.FindHead(buffer, MaxHeadBytes);
                        if (headLength < 0)
                        {
                            received |= !buffer.IsEmpty;
                            if (result.IsCompleted)
                            {
                                connection.Reader.AdvanceTo(buffer.End);
                                throw new Http1Bodies.ConnectionClosedException(received ? "connection closed inside a response head" : "connection closed before a response");
                            }

                            connection.Reader.AdvanceTo(buffer.Start, buffer.End);
                            continue;
                        }

                        received = true;
                        if (sending is { IsCompleted: false })
                        {
                            // As SocketsHttpHandler does: the request goes out whole before its response is passed on (a client
                            // that stalls its body is answered 408 on both paths, and the connection stays in step). An interim
                            // response waits too: the body is already on its way, nothing waits for it.
                            connection.Reader.AdvanceTo(buffer.Start, buffer.Start);
                            await sending.ConfigureAwait(false);
                            continue;
                        }

                        var headBytes = buffer.Slice(0, headLength);
                        var verdict = PassOn(headBytes, exchange, attempts, head);
                        connection.Reader.AdvanceTo(headBytes.End);
                        if (head.IsInterim)
                        {
                            continue; // an interim response (100 Continue, 103 Early Hints): the final one follows
                        }

                        if (verdict != ResponseVerdict.PassOn)
                        {
                            await CloseAsync(connection, sending).ConfigureAwait(false); // kept from the client: its body is not read, the connection not reused
                            return AttemptEnd.Received;
                        }

                        break;
                    }

                    if (head.Status == 101)
                    {
                        // The upgrade: a tunnel until either side ends (it classifies its own end; the connection closes after it).
                        return await Http1Tunnel.RunAsync(connection, exchange, exchange.UpgradeInput!, cancellationToken).ConfigureAwait(false);
                    }

                    phase = Phase.ResponseBody;
                    var complete = await Http1Bodies.CopyResponseAsync(connection, head, exchange).ConfigureAwait(false);
                    exchange.EndBody();
                    var requestSent = sending is null || (sending.IsCompleted && sending.IsCompletedSuccessfully);
                    if (complete && head.KeepAlive && requestSent && NothingLeftOver(connection))
                    {
                        pool.Return(connection);
                    }
                    else
                    {
                        await CloseAsync(connection, sending).ConfigureAwait(false);
                    }

                    return AttemptEnd.Received;
                }
                finally
                {
                    ResponseHeadPool.Return(head);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                var timedOut = connection.TimedOut; // read before closing, which aborts every wait
                await CloseAsync(connection, sending).ConfigureAwait(false);
                var stale = !timedOut && connection.Reused && !received && phase == Phase.Request && (body?.Progress ?? RequestBodyProgress.None) == RequestBodyProgress.None
                    && ex is Http1Bodies.ConnectionClosedException or IOException { InnerException: SocketException } or SocketException;
                // The caller left or the deadline passed (the abort closed the socket: the wait ended in whichever of these).
                var cancelled = cancellationToken.IsCancellationRequested && ex is OperationCanceledException or SocketException or ObjectDisposedException;
                if (stale && !fresh)
                {
                    connection = null; // a pooled connection the destination had closed: nothing reached it, one fresh try
                    continue;
                }

                return Describe(ex, phase, timedOut, cancelled, body, exchange);
            }
        }
    }

    // Parses the head and asks the loop; on PassOn the status and headers become the client's response's.
    private static ResponseVerdict PassOn(in ReadOnlySequence<byte> headBytes, IFastExchange exchange, AttemptLoop attempts, ResponseHead head)
    {
        byte[]? rented = null;
        var span = headBytes.IsSingleSegment ? headBytes.FirstSpan : Flatten(headBytes, out rented);
        try
        {
            ResponseParser.Parse(span, exchange.IsHead, head);
            if (head.IsInterim)
            {
                return ResponseVerdict.PassOn; // not the answer: the final response follows
            }

            // A 101 is an answer only to a request that asked for an upgrade this exchange carries (Rampart's own server's).
            var verdict = attempts.OnResponse(head.Status, unexpectedUpgrade: head.Status == 101 && exchange.UpgradeInput is null);
            if (verdict == ResponseVerdict.PassOn)
            {
                exchange.PassOn(span, head);
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

    private static AttemptEnd Describe(Exception ex, Phase phase, bool timedOut, bool cancelled, ClientBodyStream? body, IFastExchange exchange)
    {
        var error = ex switch
        {
            _ when cancelled => AttemptError.RequestCanceled, // the loop tells the caller's leaving from the deadline
            Http1Bodies.ClientGoneException => AttemptError.ResponseBodyClient,
            _ when body?.Error is not null => AttemptError.RequestBodyClient,
            _ when phase == Phase.ResponseBody => AttemptError.ResponseBodyDestination,
            _ when timedOut => AttemptError.RequestTimedOut,
            _ => AttemptError.Request,
        };
        var status = body?.Error is Microsoft.AspNetCore.Http.BadHttpRequestException bad ? bad.StatusCode : 0;
        return new AttemptEnd(error, body?.Error ?? ex, body?.Progress ?? RequestBodyProgress.None, NothingSent: false, ResponseStarted: exchange.ResponseStarted, CallerStatus: status);
    }
}
