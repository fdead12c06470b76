using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Rampart.Async;
using Rampart.Failover;
using Rampart.Proxy.Diagnostics;
using Rampart.Proxy.Forwarding;
using Rampart.Proxy.Forwarding.Fast;

namespace Rampart.Proxy.Server;

/// <summary>
/// One client connection of Rampart's own HTTP/1.1 server: requests read straight off the transport's pipe, forwarded
/// through the fast path, answered into the transport's pipe — no <c>HttpContext</c>. At the first request it does
/// not take (see <see cref="RequestHead"/>), the connection goes on in Kestrel's own HTTP server, from that request on.
/// </summary>
internal sealed partial class ServerConnection
{
    private const int Idle = 0;
    private const int Busy = 1;
    private const int HandedOff = 2;
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private readonly FastServer _server;
    private readonly ConnectionContext _connection;
    private readonly PipeReader _input;
    private readonly SocketReader? _socketInput; // the input, when it is the epoll transport's reader straight on the socket
    private readonly RequestHead _head = new();
    private readonly ServerExchange _exchange;
    private readonly RequestBody _body;
    private readonly TimeProvider _time;
    private int _state;
    private long _idleSince;
    private volatile bool _closeRequested;
    private string? _client;

    public ServerConnection(FastServer server, ConnectionContext connection)
    {
        _server = server;
        _connection = connection;
        _input = connection.Transport.Input;
        _socketInput = _input as SocketReader;
        _time = server.Time;
        _body = new RequestBody(_time);
        _exchange = new ServerExchange(connection.Transport.Output, (connection.RemoteEndPoint as IPEndPoint)?.Address, server.Limits, _time);
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder))]
    public async ValueTask RunAsync(ConnectionDelegate kestrel)
    {
        // Kestrel starts a connection in its log scope (an async-local value). The requests served here do without it:
        // in the default context, resuming their methods on a loop switches no context. A connection handed to
        // Kestrel's server goes back to Kestrel's context first.
        var kestrels = ExecutionContext.Capture();
        ExecutionContext.Restore(Rampart.Async.DefaultContext.Instance);
        // Kestrel's heartbeat (once a second) ends idle keep-alive connections and clients that stopped reading.
        _connection.Features.Get<IConnectionHeartbeatFeature>()?.OnHeartbeat(static c => ((ServerConnection)c).Tick(), this);
        using var closing = _connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested
            .UnsafeRegister(static c => ((ServerConnection)c!).OnCloseRequested(), this);
        while (true)
        {
            Volatile.Write(ref _idleSince, _time.GetTimestamp());
            Volatile.Write(ref _state, Idle);
            if (_closeRequested)
            {
                return;
            }

            ReadResult read;
            try
            {
                // On the epoll transport, the socket's receive is awaited itself: one async frame less on the way of every request.
                if (_socketInput is not { } socketInput)
                {
                    read = await _input.ReadAsync().ConfigureAwait(false);
                }
                else if (!socketInput.TryRead(out read))
                {
                    read = socketInput.Received(await socketInput.ReceiveAsync().ConfigureAwait(false));
                }
            }
            catch (Exception ex) when (ex is IOException or ConnectionResetException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            Volatile.Write(ref _state, Busy);
            var buffer = read.Buffer;
            if (read.IsCanceled)
            {
                _input.AdvanceTo(buffer.Start);
                if (_closeRequested || IdleTooLong(_time.GetTimestamp()))
                {
                    return; // idle for too long, or the server is stopping
                }

                continue; // a heartbeat that came as the connection turned busy
            }

            if (buffer.IsEmpty && read.IsCompleted)
            {
                return;
            }

            var forwarder = _server.Proxy.EverythingForwarder;
            var headLength = forwarder?.Fast is null ? -1 : _head.TryRead(buffer, _server.Limits);
            if (headLength < 0)
            {
                // Nothing consumed, nothing examined: Kestrel reads this request again and serves the connection from here.
                _input.AdvanceTo(buffer.Start);
                Volatile.Write(ref _state, HandedOff);
                _server.CountHandedOff();
                if (kestrels is not null)
                {
                    ExecutionContext.Restore(kestrels);
                }

                await kestrel(_connection).ConfigureAwait(false);
                return;
            }

            // A body, or an upgrade's tunnel, is read off the same pipe: the head (copied) is consumed first. Without
            // either, the head stays in the pipe while it is served (its parts point into it) and is consumed after.
            var headEnd = buffer.GetPosition(headLength);
            var consumed = _head.ConsumesConnection;
            if (consumed)
            {
                _input.AdvanceTo(headEnd);
            }

            ConnectionEnd end;
            try
            {
                end = await ServeAsync(forwarder!).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // whatever went wrong, it ends this connection only, and the process goes on
            catch (Exception ex)
            {
                Log.ConnectionFailed(_server.Logger, _connection.ConnectionId, ex);
                end = ConnectionEnd.Abort;
            }
#pragma warning restore CA1031

            if (!consumed)
            {
                _input.AdvanceTo(headEnd);
            }

            if (end == ConnectionEnd.Abort)
            {
                _connection.Abort(new ConnectionAbortedException("the response could not be completed"));
                return;
            }

            if (end == ConnectionEnd.Close || _closeRequested)
            {
                return;
            }
        }
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private async ValueTask<ConnectionEnd> ServeAsync(Forwarding.ClusterForwarder forwarder)
    {
        var cluster = forwarder.Cluster;
        var accessLog = _server.Proxy.AccessLog;
        var started = accessLog?.Start() ?? 0;
        using var span = RequestTracing.On ? StartSpan(cluster.Id) : null;
        var hasBody = _head.HasBody;
        var loop = AttemptLoop.Rent(cluster, _head.Method, hasBody, _head.ContentLength, _connection.ConnectionClosed);
        ClientBodyStream? watch = null;
        Stream? body = null;
        FailoverResult result;
        try
        {
            if (hasBody)
            {
                // As on Kestrel's path: read through a watch (a failure reading it is the client's), buffered for
                // replay when the loop says the request may be tried again. The watch is this request's own.
                var sendContinueTo = _head.ExpectContinue ? _connection.Transport.Output : null;
                if (_head.Chunked)
                {
                    _body.StartChunked(_input, _server.Limits, sendContinueTo);
                }
                else
                {
                    _body.Start(_input, _head.ContentLength!.Value, sendContinueTo);
                }

                watch = new ClientBodyStream(_body);
                var limit = cluster.Options.Retry.MaxBufferedBodyBytes;
                body = loop.BufferBody ? new FileBufferingReadStream(watch, (int)Math.Min(limit, 64 * 1024), limit, Path.GetTempPath()) : watch;
            }

            _exchange.Begin(_head, closing: _head.Close || _closeRequested, watch, body, _input);
            result = await loop.RunAsync<IFastExchange>(forwarder.Fast!, _exchange).ConfigureAwait(false);
        }
        finally
        {
            loop.Return();
            watch?.Detach();
            if (body is FileBufferingReadStream buffered)
            {
                await buffered.DisposeAsync().ConfigureAwait(false);
            }
        }

        _server.CountServed();
        if (hasBody && !_body.Done)
        {
            _exchange.Closing = true; // the body was not read to its end: the answer says close, rather than the body being drained
        }

        var end = _exchange.Answer(result, cluster);
        accessLog?.Add(
            started,
            _client ??= (_connection.RemoteEndPoint as IPEndPoint)?.Address.ToString(),
            _head.Method,
            _head.TargetText,
            end == ConnectionEnd.Abort && !_exchange.ResponseStarted ? 0 : _exchange.Status,
            cluster.Id,
            result,
            _exchange.BodyBytes);
        RequestTracing.Stop(span, end == ConnectionEnd.Abort && !_exchange.ResponseStarted ? 0 : _exchange.Status, result);
        if (end != ConnectionEnd.Abort)
        {
            try
            {
                await _exchange.FlushAsync().ConfigureAwait(false);
            }
            catch (Http1Bodies.ClientGoneException)
            {
                return ConnectionEnd.Abort;
            }

            if (hasBody && !_body.Done)
            {
                await DrainAsync().ConfigureAwait(false);
            }
        }

        return end;
    }

    // A body left unread when the answer is out: read and dropped (as Kestrel does), so that the client, still sending,
    // reads the answer rather than a reset; bounded by the data rate and a few seconds. The connection closes after it.
    private async ValueTask DrainAsync()
    {
        using var limit = new CancellationTokenSource(DrainTimeout);
        try
        {
            while (!_body.Done)
            {
                var read = await _body.ReadAsync(limit.Token).ConfigureAwait(false);
                _body.AdvanceTo(read.Buffer.End);
                if (read.IsCanceled)
                {
                    return;
                }
            }
        }
#pragma warning disable CA1031 // the client closed, reset or stalled: nothing more to do than close
        catch (Exception)
        {
        }
#pragma warning restore CA1031
    }
    // The request's server span, continuing the client's trace context.
    private System.Diagnostics.Activity? StartSpan(string cluster) =>
        RequestTracing.Start(_head.Method, _head.TargetText, _head.Value("traceparent"u8), _head.Value("tracestate"u8), cluster);

    private void OnCloseRequested()
    {
        _closeRequested = true;
        _exchange.Closing = true;
        if (Volatile.Read(ref _state) == Idle)
        {
            _input.CancelPendingRead();
        }
    }

    private bool IdleTooLong(long now) => _time.GetElapsedTime(Volatile.Read(ref _idleSince), now) >= _server.Limits.KeepAliveTimeout;

    private void Tick()
    {
        var now = _time.GetTimestamp();
        switch (Volatile.Read(ref _state))
        {
            case Idle when IdleTooLong(now):
                _input.CancelPendingRead();
                break;
            case Busy:
                _body.CheckRate(now, _server.Limits);
                if (_exchange.FlushStalled(now))
                {
                    _connection.Abort(new ConnectionAbortedException("the client read the response slower than the minimum data rate"));
                }

                break;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3010, Level = LogLevel.Debug, Message = "Connection {ConnectionId}: ended by an unexpected error")]
        public static partial void ConnectionFailed(ILogger logger, string connectionId, Exception exception);
    }
}
