using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Rampart.Async;
using Rampart.Clusters;
using Rampart.Failover;
using Rampart.Proxy.Diagnostics;
using Rampart.Proxy.Forwarding;
using Rampart.Proxy.Forwarding.Fast;

namespace Rampart.Proxy.Server;

/// <summary>
/// One request on a connection of Rampart's own server, as the fast path's transport sees it: the request head goes
/// to the destination byte for byte but for what belongs to the client's hop; the response head is held until its
/// first body byte (until then another attempt, or another answer, may still take its place), then written with the
/// framing Kestrel would choose. One per connection, reused by its requests.
/// </summary>
internal sealed class ServerExchange(PipeWriter output, IPAddress? client, ServerLimits limits, TimeProvider time) : IFastExchange
{
    private long _flushDeadline;

    private readonly ArrayBufferWriter<byte> _held = new(1024);
    private RequestHead _request = null!;
    private BodyFraming _framing;
    private bool _hasDate;
    private bool _chunked;

    // The forwarded headers of the connection's last request without a chain of its own: the same client and usually the same Host.
    private (ForwardedHeaders? Mode, string? Host, (string?, string?, string?, string?) Values) _forwarded;

    /// <summary>Whether the connection ends after this response (the client said so, or the server is stopping).</summary>
    public bool Closing { get; set; }

    public ClientBodyStream? Body { get; private set; }

    public Stream? RequestBody { get; private set; }

    public RequestWriter.Framing Framing => _request.Chunked ? RequestWriter.Framing.Chunked
        : _request.ContentLength is null ? RequestWriter.Framing.None : RequestWriter.Framing.ContentLength;

    public bool IsHead => _request.IsHead;

    public PipeReader? UpgradeInput { get; private set; }

    public bool ResponseStarted { get; private set; }

    /// <summary>The status of the response held or sent (for the access log).</summary>
    public int Status { get; private set; }

    /// <summary>The response body's bytes passed to the client (for the access log).</summary>
    public long BodyBytes { get; private set; }

    /// <summary>
    /// A new request: its head, its body (the watch, and what the destination reads: the watch or a replay buffer over
    /// it), and for an upgrade the connection's input, which carries the client's bytes after a 101.
    /// </summary>
    public void Begin(RequestHead request, bool closing, ClientBodyStream? body, Stream? requestBody, PipeReader? upgradeInput = null)
    {
        _request = request;
        UpgradeInput = request.IsUpgrade ? upgradeInput : null;
        Body = body;
        RequestBody = requestBody ?? (request.ContentLength == 0 ? Stream.Null : null);
        Closing = closing;
        ResponseStarted = false;
        (Status, BodyBytes) = (0, 0);
        _held.ResetWrittenCount();
    }

    public void WriteHead(PipeWriter destination, Http1Pool pool, ForwardedHeaders forwarded)
    {
        var head = _request.Bytes;
        destination.Write(head[.._request.MethodLength]);
        destination.Write(" "u8);
        if (pool.PathPrefix.Length > 0)
        {
            RequestWriter.Write(destination, pool.PathPrefix);
        }

        destination.Write(head[_request.Target]);
        destination.Write(" HTTP/1.1\r\n"u8);
        Span<char> name = stackalloc char[64];
        var trace = RequestTracing.ForDestination();
        foreach (var header in _request.Headers)
        {
            var nameBytes = head.Slice(header.NameStart, header.NameLength);
            var chars = Chars(nameBytes, name);
            if (RequestWriter.StaysOnItsHop(chars, _request.Listed) || forwarded.Drops(chars) || (trace is not null && RequestTracing.IsTraceHeader(chars)))
            {
                continue;
            }

            destination.Write(head[header.NameStart..(header.ValueStart + header.ValueLength)]); // the client's line as it was
            destination.Write("\r\n"u8);
        }

        if (UpgradeInput is not null)
        {
            destination.Write("Upgrade: "u8); // the one protocol the client asked for, and the option that makes it an upgrade
            destination.Write(head[_request.Upgrade]);
            destination.Write("\r\nConnection: Upgrade\r\n"u8);
        }

        RequestWriter.WriteForwarded(destination, Forwarded(forwarded));
        RequestWriter.WriteTrace(destination, trace);
        RequestWriter.WriteFraming(destination, Framing, _request.ContentLength ?? 0);
    }

    public void PassOn(ReadOnlySpan<byte> head, ResponseHead parsed)
    {
        _held.ResetWrittenCount();
        Status = parsed.Status;
        _held.Write(StatusLines.For(parsed.Status));
        (_framing, _hasDate, _chunked) = (parsed.Framing, false, false);
        Closing |= parsed.Status == 101; // after a tunnel, the connection ends
        var listed = ResponseHeaders.Listed(head, parsed);
        Span<char> name = stackalloc char[64];
        foreach (var header in parsed.Headers)
        {
            var nameBytes = head.Slice(header.NameStart, header.NameLength);
            var chars = Chars(nameBytes, name);
            if (!ResponseHeaders.Passes(chars, parsed.Status, listed) && !(parsed.Status == 101 && chars.Equals("Upgrade", StringComparison.OrdinalIgnoreCase)))
            {
                continue; // (a 101's Upgrade reaches the client, whatever its Connection lists: it says what the tunnel speaks)
            }

            _hasDate |= chars.Equals("Date", StringComparison.OrdinalIgnoreCase);
            _held.Write(head[header.NameStart..(header.ValueStart + header.ValueLength)]);
            _held.Write("\r\n"u8);
        }
    }

    public void WriteBody(ReadOnlySpan<byte> bytes)
    {
        if (!ResponseStarted)
        {
            Start(withBody: true);
        }

        if (bytes.IsEmpty)
        {
            return;
        }

        BodyBytes += bytes.Length;
        if (_chunked)
        {
            ChunkedBody.WriteChunk(output, bytes);
        }
        else
        {
            output.Write(bytes);
        }
    }

    public ValueTask FlushBodyAsync() => FlushAsync();

    /// <summary>
    /// Sends what was written to the client. A client that reads slower than Kestrel's minimum response data rate
    /// (a grace period, then the rate for the bytes of this flush) is cut off by the connection's heartbeat.
    /// </summary>
    public ValueTask FlushAsync()
    {
        if (limits.MinResponseDataRate > 0 && Status != 101) // a tunnel's bytes come when they come (as Kestrel, no data rate after an upgrade)
        {
            var allowed = limits.MinResponseDataRateGracePeriod.TotalSeconds + (output.UnflushedBytes / limits.MinResponseDataRate);
            Volatile.Write(ref _flushDeadline, time.GetTimestamp() + (long)(allowed * time.TimestampFrequency));
        }

        ValueTask flushing;
        try
        {
            flushing = Http1Bodies.FlushToClientAsync(output);
        }
        catch
        {
            Volatile.Write(ref _flushDeadline, 0);
            throw;
        }

        if (flushing.IsCompletedSuccessfully)
        {
            Volatile.Write(ref _flushDeadline, 0);
            return default;
        }

        return AwaitFlushAsync(flushing);
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder))]
    private async ValueTask AwaitFlushAsync(ValueTask flushing)
    {
        try
        {
            await flushing.ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _flushDeadline, 0);
        }
    }

    /// <summary>Whether a flush has waited on the client for longer than the data rate allows (<paramref name="now"/>: a timestamp of the server's clock).</summary>
    public bool FlushStalled(long now) => Volatile.Read(ref _flushDeadline) is var deadline && deadline != 0 && now > deadline;

    public void EndBody()
    {
        if (_chunked)
        {
            output.Write("0\r\n\r\n"u8);
        }
    }

    public void PrepareRetry()
    {
        _held.ResetWrittenCount();
        if (RequestBody is { CanSeek: true } replay)
        {
            replay.Position = 0;
        }
    }

    /// <summary>Writes the answer the attempts came to (flushed by the caller); says what becomes of the connection.</summary>
    public ConnectionEnd Answer(in FailoverResult result, ClusterState cluster)
    {
        switch (result.Outcome)
        {
            case FailoverOutcome.Answered:
                if (!ResponseStarted)
                {
                    Start(withBody: false);
                }

                return Closing ? ConnectionEnd.Close : ConnectionEnd.KeepAlive;
            case FailoverOutcome.NoDestination when result.Status == 503 && !ResponseStarted:
                var text = Encoding.UTF8.GetBytes(ClusterForwarder.NoDestinationText(cluster));
                WriteAnswer(503, ClusterForwarder.RetryAfterSeconds(cluster), text, Closing);
                return Closing ? ConnectionEnd.Close : ConnectionEnd.KeepAlive;
            case FailoverOutcome.NoDestination or FailoverOutcome.Failed when result.Status != 0 && !ResponseStarted:
                var close = Closing || result.CloseConnection;
                WriteAnswer(result.Status, null, [], close);
                return close ? ConnectionEnd.Close : ConnectionEnd.KeepAlive;
            default:
                return ConnectionEnd.Abort; // the client left, or part of a response went out: a truncated body is never passed off as complete
        }
    }

    // The held head, the Date Kestrel would add, and the framing Kestrel would choose: the destination's length when it
    // gave one; otherwise chunks when there is a body, and Content-Length: 0 when there is none.
    private void Start(bool withBody)
    {
        ResponseStarted = true;
        output.Write(_held.WrittenSpan);
        if (!_hasDate)
        {
            output.Write(StatusLines.Date(time));
        }

        if (Status == 101)
        {
            output.Write("Connection: Upgrade\r\n"u8);
        }
        else if (Closing)
        {
            output.Write("Connection: close\r\n"u8);
        }

        if (_framing is BodyFraming.Chunked or BodyFraming.UntilClose)
        {
            _chunked = withBody;
            output.Write(withBody ? "Transfer-Encoding: chunked\r\n"u8 : "Content-Length: 0\r\n"u8);
        }

        output.Write("\r\n"u8);
    }

    private void WriteAnswer(int status, string? retryAfter, ReadOnlySpan<byte> text, bool close)
    {
        ResponseStarted = true;
        (Status, BodyBytes) = (status, text.Length);
        output.Write(StatusLines.For(status));
        output.Write(StatusLines.Date(time));
        if (close)
        {
            output.Write("Connection: close\r\n"u8);
        }

        if (retryAfter is not null)
        {
            output.Write("Retry-After: "u8);
            RequestWriter.Write(output, retryAfter);
            output.Write("\r\nContent-Type: text/plain; charset=utf-8\r\n"u8);
        }

        RequestWriter.Write(output, "Content-Length: " + text.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\r\n\r\n");
        output.Write(text);
    }

    private (string?, string?, string?, string?) Forwarded(ForwardedHeaders forwarded)
    {
        if (forwarded.Mode == ForwardedHeadersMode.Off)
        {
            return default;
        }

        var hostBytes = _request.Bytes[_request.Host];
        if (!_request.HasForwardedChain && ReferenceEquals(_forwarded.Mode, forwarded) && _forwarded.Host is { } host && host.Length == hostBytes.Length && Ascii(host, hostBytes))
        {
            return _forwarded.Values;
        }

        var hostText = Encoding.ASCII.GetString(hostBytes);
        var chain = _request.HasForwardedChain;
        var values = forwarded.Values(client, "http", hostText, chain ? _request.Value("X-Forwarded-For"u8) ?? "" : "", chain ? _request.Value("Forwarded"u8) ?? "" : "");
        if (!_request.HasForwardedChain)
        {
            _forwarded = (forwarded, hostText, values);
        }

        return values;
    }

    // A header's name as characters: in the buffer given, or a string when it is longer.
    private static ReadOnlySpan<char> Chars(ReadOnlySpan<byte> name, Span<char> buffer) =>
        name.Length <= buffer.Length ? buffer[..Encoding.Latin1.GetChars(name, buffer)] : Encoding.Latin1.GetString(name);

    private static bool Ascii(string text, ReadOnlySpan<byte> bytes)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            if (text[i] != bytes[i])
            {
                return false;
            }
        }

        return true;
    }

}

/// <summary>What becomes of a connection of Rampart's own server after a response.</summary>
internal enum ConnectionEnd
{
    KeepAlive,
    Close,
    Abort,
}
