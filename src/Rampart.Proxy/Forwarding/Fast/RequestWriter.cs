using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Rampart.Proxy.Diagnostics;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>
/// Writes a request's head straight from Kestrel's parsed request into a connection's pipe: the request line with
/// the destination's path, the client's headers (its <c>Host</c> included, as on the YARP path) but those that belong to
/// its hop, the forwarded headers, and the body's framing. No <c>HttpRequestMessage</c>, no header validation pass.
/// </summary>
internal static class RequestWriter
{
    /// <summary>How the request's body goes to the destination.</summary>
    public enum Framing
    {
        None,
        ContentLength,
        Chunked,
    }

    public static void WriteHead(PipeWriter writer, HttpContext context, Http1Pool pool, ForwardedHeaders forwarded, Framing framing, long contentLength)
    {
        var request = context.Request;
        Write(writer, request.Method);
        Write(writer, " ");
        var path = request.Path.ToUriComponent();
        if (pool.PathPrefix.Length > 0)
        {
            Write(writer, pool.PathPrefix);
        }

        Write(writer, path.Length == 0 && pool.PathPrefix.Length == 0 ? "/" : path);
        if (request.QueryString.Value is { Length: > 0 } query)
        {
            Write(writer, query);
        }

        writer.Write(" HTTP/1.1\r\n"u8);
        if (!request.Host.HasValue)
        {
            writer.Write(pool.HostLine); // an HTTP/1.0 client sent none: the destination's own (HTTP/1.1 requires one)
        }

        var listed = HopByHopHeaders.ListedIn(request.Headers);
        var trace = RequestTracing.ForDestination();
        foreach (var (name, values) in request.Headers)
        {
            if (StaysOnItsHop(name, listed) || forwarded.Drops(name) || (trace is not null && RequestTracing.IsTraceHeader(name)))
            {
                continue;
            }

            WriteHeader(writer, name, values);
        }

        WriteForwarded(writer, forwarded.Values(context));
        WriteTrace(writer, trace);
        WriteFraming(writer, framing, contentLength);
    }

    /// <summary>The attempt's trace context, when tracing is on (the client's own lines were skipped).</summary>
    public static void WriteTrace(PipeWriter writer, (string TraceParent, string? TraceState)? trace)
    {
        if (trace is { } context)
        {
            WriteHeader(writer, "traceparent", context.TraceParent);
            WriteHeader(writer, "tracestate", context.TraceState);
        }
    }

    /// <summary>The forwarded headers' lines (those with a value).</summary>
    public static void WriteForwarded(PipeWriter writer, (string? For, string? Proto, string? Host, string? Forwarded) values)
    {
        var names = ForwardedHeaders.Names;
        WriteHeader(writer, names.For, values.For);
        WriteHeader(writer, names.Proto, values.Proto);
        WriteHeader(writer, names.Host, values.Host);
        WriteHeader(writer, names.Forwarded, values.Forwarded);
    }

    /// <summary>The body's framing line, and the blank line that ends the head.</summary>
    public static void WriteFraming(PipeWriter writer, Framing framing, long contentLength)
    {
        switch (framing)
        {
            case Framing.ContentLength:
                writer.Write("Content-Length: "u8);
                var span = writer.GetSpan(20);
                contentLength.TryFormat(span, out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
                writer.Advance(written);
                writer.Write("\r\n"u8);
                break;
            case Framing.Chunked:
                writer.Write("Transfer-Encoding: chunked\r\n"u8);
                break;
        }

        writer.Write("\r\n"u8);
    }

    /// <summary>
    /// Headers of the client's connection, not of the request: the ones YARP's forwarder drops (the framing is written
    /// afresh, <c>Expect</c> was answered by Kestrel), the fixed hop-by-hop set, and whatever <c>Connection</c> lists.
    /// <c>Host</c> passes as the client sent it, as on the YARP path.
    /// </summary>
    public static bool StaysOnItsHop(ReadOnlySpan<char> name, string[] listed)
    {
        switch (name.Length)
        {
            case 2 when name.Equals("TE", StringComparison.OrdinalIgnoreCase):
            case 6 when name.Equals("Expect", StringComparison.OrdinalIgnoreCase):
            case 7 when name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase):
            case 10 when name.Equals("Connection", StringComparison.OrdinalIgnoreCase):
            case 14 when name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase):
            case 17 when name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase):
                return true;
        }

        return HopByHopHeaders.IsFixedRequestHeader(name) || HopByHopHeaders.Contains(listed, name);
    }

    private static void WriteHeader(PipeWriter writer, string name, StringValues values)
    {
        if (StringValues.IsNullOrEmpty(values))
        {
            return;
        }

        Write(writer, name);
        writer.Write(": "u8);
        var separator = name.Equals("Cookie", StringComparison.OrdinalIgnoreCase) ? "; " : ", ";
        for (var i = 0; i < values.Count; i++)
        {
            if (i > 0)
            {
                Write(writer, separator);
            }

            Write(writer, values[i] ?? "");
        }

        writer.Write("\r\n"u8);
    }

    public static void Write(PipeWriter writer, string text)
    {
        var span = writer.GetSpan(text.Length);
        var written = Encoding.Latin1.GetBytes(text, span);
        writer.Advance(written);
    }
}
