using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Rampart.Failover;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>
/// An upgraded connection (a WebSocket) after the destination's <c>101</c>: bytes both ways until one side ends, and the
/// first direction to end ends the other, as YARP's tunnel does. Every wait is bounded by the connection's activity
/// timeout (a byte either way moves it); the request's deadline is over once the 101 is passed on. How it ended says
/// whose failure it was: a destination that resets, or cannot be written to, failed; a client that leaves, or a tunnel
/// left idle, is nobody's failure.
/// </summary>
internal static class Http1Tunnel
{
    /// <summary>Sends the 101 to the client, then carries bytes both ways until the tunnel ends; the connection is closed after.</summary>
    public static async ValueTask<AttemptEnd> RunAsync(Http1Connection connection, IFastExchange client, PipeReader clientInput, CancellationToken cancellationToken)
    {
        try
        {
            client.WriteBody([]); // the 101's head
            await client.FlushBodyAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            connection.Close();
            return new AttemptEnd(AttemptError.UpgradeResponseClient, ex, ResponseStarted: client.ResponseStarted);
        }

        var up = UpAsync(clientInput, connection);
        var down = DownAsync(connection, client);
        var first = await Task.WhenAny(up, down).ConfigureAwait(false);
        var timedOut = connection.TimedOut; // read before ending the other direction, which aborts the connection
        var cancelled = cancellationToken.IsCancellationRequested;
        connection.Abort(); // the destination's side ends
        clientInput.CancelPendingRead(); // and the client's
        var (error, exception) = await first.ConfigureAwait(false);
        await (first == up ? down : up).ConfigureAwait(false);
        connection.Close();

        if (cancelled)
        {
            return new AttemptEnd(first == up ? AttemptError.UpgradeRequestCanceled : AttemptError.UpgradeResponseCanceled, exception, ResponseStarted: true);
        }

        if (timedOut)
        {
            return new AttemptEnd(AttemptError.UpgradeActivityTimeout, new TimeoutException("the upgraded connection was idle for longer than the activity timeout"), ResponseStarted: true);
        }

        return error == AttemptError.None ? AttemptEnd.Received : new AttemptEnd(error, exception, ResponseStarted: true);
    }

    // The client's bytes to the destination, until the client's side ends (None) or fails.
    private static async Task<(AttemptError, Exception?)> UpAsync(PipeReader clientInput, Http1Connection connection)
    {
        while (true)
        {
            ReadResult read;
            try
            {
                read = await clientInput.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or Microsoft.AspNetCore.Connections.ConnectionResetException)
            {
                return (AttemptError.UpgradeRequestClient, ex);
            }

            var buffer = read.Buffer;
            try
            {
                foreach (var segment in buffer)
                {
                    connection.Writer.Write(segment.Span);
                }

                if (!buffer.IsEmpty)
                {
                    await Http1Bodies.FlushAsync(connection).ConfigureAwait(false); // moves the activity timeout
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return (AttemptError.UpgradeRequestDestination, ex);
            }
            finally
            {
                clientInput.AdvanceTo(buffer.End);
            }

            if (read.IsCompleted || read.IsCanceled)
            {
                return (AttemptError.None, null);
            }
        }
    }

    // The destination's bytes to the client (those that came with the 101 first), until the destination's side ends or fails.
    private static async Task<(AttemptError, Exception?)> DownAsync(Http1Connection connection, IFastExchange client)
    {
        var reader = connection.Reader;
        while (true)
        {
            ReadResult read;
            try
            {
                connection.Touch();
                read = await reader.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
            {
                return (AttemptError.UpgradeResponseDestination, ex);
            }

            var buffer = read.Buffer;
            foreach (var segment in buffer)
            {
                client.WriteBody(segment.Span);
            }

            reader.AdvanceTo(buffer.End);
            try
            {
                await client.FlushBodyAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
            {
                return (AttemptError.UpgradeResponseClient, ex);
            }

            if (read.IsCompleted)
            {
                return (AttemptError.None, null);
            }
        }
    }
}
