using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http;
using Rampart.Proxy.Forwarding;
using Rampart.Proxy.Forwarding.Fast;
using KestrelMethod = Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpMethod;
using KestrelVersion = Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpVersion;

namespace Rampart.Proxy.Server;

/// <summary>
/// A client's request head as Rampart's own server takes it: parsed by Kestrel's own <c>HttpParser</c> (the same
/// strictness), its parts kept as offsets into the head's bytes. <see cref="TryRead"/> says whether the fast server
/// takes the request; whatever it does not take — a malformed or unusual head, a transfer coding other than chunked
/// alone, a length and a coding together, an upgrade but a GET's without a body that <c>Connection</c> names (h2c
/// aside), HTTP/1.0, a head near a limit — Kestrel's HTTP/1.1 server takes, with the rest of the connection.
/// </summary>
internal sealed class RequestHead : IHttpRequestLineHandler, IHttpHeadersHandler
{
    private static readonly HttpParser<RequestHead> Parser = new();

    // What a target may hold for the fast server to pass it on byte for byte, as Kestrel and YARP would rebuild it:
    // no percent-encoding in the path (Kestrel decodes it), no dot segments (Kestrel removes them), nothing either
    // would escape differently.
    private static readonly SearchValues<byte> PlainTarget =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?"u8);

    private static readonly SearchValues<byte> PlainQuery =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?%"u8);

    // Header values Kestrel decodes the same way whatever its settings: printable ASCII and tabs.
    private static readonly SearchValues<byte> PlainValue = SearchValues.Create(
        "\t !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"u8);

    private static readonly SearchValues<byte> PlainHost =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-."u8);

    private HeaderRange[] _headers = new HeaderRange[32];
    private byte[] _copy = [];
    private ReadOnlyMemory<byte> _bytes;
    private bool _unusual;
    private string? _targetText;

    /// <summary>The head's bytes (valid while the connection's read buffer is held, or in the head's own copy).</summary>
    public ReadOnlySpan<byte> Bytes => _bytes.Span;

    /// <summary>The method, as ASP.NET Core's interned string.</summary>
    public string Method { get; private set; } = "";

    public bool IsHead { get; private set; }

    /// <summary>Where the request line's method ends (its bytes are <c>Bytes[..MethodLength]</c>).</summary>
    public int MethodLength { get; private set; }

    /// <summary>The target (path and query) in the head's bytes.</summary>
    public Range Target { get; private set; }

    /// <summary>The target as a string (made once per request, when the access log or a span asks for it).</summary>
    public string TargetText => _targetText ??= System.Text.Encoding.ASCII.GetString(Bytes[Target]);

    /// <summary>The <c>Host</c> header's value in the head's bytes.</summary>
    public Range Host { get; private set; }

    /// <summary>The client's <c>Content-Length</c> (the destination is told the same), or null when it sent none.</summary>
    public long? ContentLength { get; private set; }

    /// <summary>Whether the body is chunked (<c>Transfer-Encoding: chunked</c>, and no <c>Content-Length</c>).</summary>
    public bool Chunked { get; private set; }

    /// <summary>Whether the client asks to upgrade the connection (a WebSocket): a GET without a body, with <c>Upgrade</c> and <c>Connection: upgrade</c>.</summary>
    public bool IsUpgrade { get; private set; }

    /// <summary>The <c>Upgrade</c> header's value in the head's bytes.</summary>
    public Range Upgrade { get; private set; }

    /// <summary>Whether the connection's bytes after the head are not this request's to leave in the pipe: a body, or an upgrade's tunnel.</summary>
    public bool ConsumesConnection => HasBody || IsUpgrade;

    private bool ConnectionUpgrade { get; set; }

    /// <summary>Whether a body follows the head (a length above 0, or chunked).</summary>
    public bool HasBody => ContentLength > 0 || Chunked;

    /// <summary>Whether the client waits for <c>100 Continue</c> before it sends its body (<c>Expect: 100-continue</c>).</summary>
    public bool ExpectContinue { get; private set; }

    /// <summary>Whether the client's <c>Connection</c> header says <c>close</c>.</summary>
    public bool Close { get; private set; }

    /// <summary>The names the client's <c>Connection</c> header lists besides its options (they stay on its hop).</summary>
    public string[] Listed { get; private set; } = [];

    /// <summary>Whether the request carries <c>X-Forwarded-For</c> or <c>Forwarded</c> (an earlier proxy's chain to extend).</summary>
    public bool HasForwardedChain { get; private set; }

    public ReadOnlySpan<HeaderRange> Headers => _headers.AsSpan(0, HeaderCount);

    public int HeaderCount { get; private set; }

    private int HostCount { get; set; }

    /// <summary>
    /// Reads one request head from the start of <paramref name="buffer"/>: its length when the fast server takes the
    /// request, or -1 when Kestrel takes it (and the rest of the connection). The buffer must stay unconsumed while the
    /// request is served: the head's parts point into it.
    /// </summary>
    public int TryRead(in ReadOnlySequence<byte> buffer, ServerLimits limits)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> head, "\r\n\r\n"u8, advancePastDelimiter: true))
        {
            return -1; // a head in pieces (slow, or larger than a read): Kestrel, with its header timeout and limits
        }

        var length = (int)Math.Min(head.Length + 4, int.MaxValue);
        if (length >= limits.MaxHeadBytes)
        {
            return -1;
        }

        var copied = buffer.FirstSpan.Length < length; // a head across segments is parsed from a copy
        _bytes = copied ? Copy(buffer.Slice(0, length)) : buffer.First[..length];
        if (!Parse(limits) || ContentLength > limits.MaxRequestBodySize || (ExpectContinue && !HasBody) || (Chunked && ContentLength is not null)
            || (IsUpgrade && (!ConnectionUpgrade || HasBody || ContentLength is not null || !ReferenceEquals(Method, HttpMethods.Get))))
        {
            return -1; // (a length and a coding together: Kestrel reads it as chunked, RFC 9112 §6.3, and ends the connection after it)
        }

        if (ConsumesConnection && !copied)
        {
            // The body is read off the same pipe, which lets the head's bytes go: the head moves to a copy of its own
            // (its parts are offsets from its start: they stay right).
            _bytes = Copy(new ReadOnlySequence<byte>(_bytes));
        }

        return length;
    }

    /// <summary>The values of the headers named <paramref name="name"/>, joined with "," as Kestrel's header dictionary joins them; null when there is none.</summary>
    public string? Value(ReadOnlySpan<byte> name)
    {
        var head = Bytes;
        string? joined = null;
        foreach (var header in Headers)
        {
            if (Is(head.Slice(header.NameStart, header.NameLength), name))
            {
                var value = System.Text.Encoding.ASCII.GetString(head.Slice(header.ValueStart, header.ValueLength));
                joined = joined is null ? value : joined + "," + value;
            }
        }

        return joined;
    }

    private ReadOnlyMemory<byte> Copy(in ReadOnlySequence<byte> head)
    {
        var length = (int)head.Length;
        if (_copy.Length < length)
        {
            _copy = new byte[Math.Max(length, 4096)];
        }

        head.CopyTo(_copy);
        return _copy.AsMemory(0, length);
    }

    private bool Parse(ServerLimits limits)
    {
        (Method, IsHead, MethodLength, Target, Host, ContentLength, Close, Listed, HasForwardedChain, ExpectContinue, Chunked) = ("", false, 0, default, default, null, false, [], false, false, false);
        (IsUpgrade, Upgrade, ConnectionUpgrade) = (false, default, false);
        (HeaderCount, HostCount, _unusual, _targetText) = (0, 0, false, null);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(_bytes));
        try
        {
            if (!Parser.ParseRequestLine(this, ref reader) || _unusual || reader.Consumed >= limits.MaxRequestLineSize)
            {
                return false;
            }

            if (!Parser.ParseHeaders(this, ref reader))
            {
                return false;
            }
        }
#pragma warning disable CA1031 // a malformed head: Kestrel parses it again and answers it (400 and its own log line)
        catch (Exception)
        {
            return false;
        }
#pragma warning restore CA1031

        return !_unusual && HostCount == 1 && HeaderCount < limits.MaxRequestHeaderCount && _bytes.Length - Target.End.Value < limits.MaxRequestHeadersTotalSize;
    }

    void IHttpRequestLineHandler.OnStartLine(HttpVersionAndMethod versionAndMethod, TargetOffsetPathLength targetPath, Span<byte> startLine)
    {
        var method = versionAndMethod.Method switch
        {
            KestrelMethod.Get => HttpMethods.Get,
            KestrelMethod.Head => HttpMethods.Head,
            KestrelMethod.Post => HttpMethods.Post,
            KestrelMethod.Put => HttpMethods.Put,
            KestrelMethod.Delete => HttpMethods.Delete,
            KestrelMethod.Patch => HttpMethods.Patch,
            KestrelMethod.Options => HttpMethods.Options,
            _ => null, // CONNECT (refused), TRACE (Kestrel's own rules for its body) and custom methods: Kestrel's way
        };
        // Kestrel hands the line through the target: method, space, target (the version it has read already).
        var start = Offset(startLine);
        var targetEnd = startLine.Length;
        if (method is null || versionAndMethod.Version != KestrelVersion.Http11 || targetPath.IsEncoded || targetEnd <= targetPath.Offset
            || start + targetEnd >= _bytes.Length || _bytes.Span[start + targetEnd] != ' ')
        {
            _unusual = true;
            return;
        }

        var target = startLine[targetPath.Offset..targetEnd];
        var path = target[..targetPath.Length];
        var query = target[targetPath.Length..];
        if (path.Length == 0 || path[0] != '/' || path.ContainsAnyExcept(PlainTarget) || path.IndexOf("/."u8) >= 0 || query.ContainsAnyExcept(PlainQuery))
        {
            _unusual = true;
            return;
        }

        Method = method;
        IsHead = versionAndMethod.Method == KestrelMethod.Head;
        MethodLength = versionAndMethod.MethodEnd;
        Target = new Range(start + targetPath.Offset, start + targetEnd);
    }

    void IHttpHeadersHandler.OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (_unusual)
        {
            return;
        }

        if (value.ContainsAnyExcept(PlainValue))
        {
            _unusual = true; // non-ASCII or control bytes: Kestrel's decoding (or rejection) decides
            return;
        }

        var nameStart = Offset(name);
        var valueStart = Offset(value);
        switch (name.Length)
        {
            case 4 when Is(name, "Host"u8):
                HostCount++;
                Host = new Range(valueStart, valueStart + value.Length);
                _unusual |= !IsPlainHost(value);
                break;
            case 6 when Is(name, "Expect"u8):
                // 100-continue is answered when the body is first read, as Kestrel does; any other expectation is Kestrel's.
                _unusual |= ExpectContinue || !Is(value, "100-continue"u8);
                ExpectContinue = true;
                break;
            case 7 when Is(name, "Upgrade"u8):
                // One protocol to switch to (a WebSocket's); h2c (HTTP/2 over cleartext by upgrade) is Kestrel's to refuse.
                _unusual |= IsUpgrade || value.IsEmpty || value.IndexOf("h2c"u8) >= 0;
                IsUpgrade = true;
                Upgrade = new Range(valueStart, valueStart + value.Length);
                break;
            case 17 when Is(name, "Transfer-Encoding"u8):
                // Chunked alone, once; any other coding (or a list) is Kestrel's to judge.
                _unusual |= Chunked || !Is(value.Trim(" \t"u8), "chunked"u8);
                Chunked = true;
                break;
            case 14 when Is(name, "Content-Length"u8):
                // One plain length within the limit; a second one, or anything else, is Kestrel's to judge (400, 413).
                _unusual |= ContentLength is not null || value.Length is 0 or > 18 || value.ContainsAnyExceptInRange((byte)'0', (byte)'9');
                ContentLength = _unusual ? 0 : long.Parse(value, provider: System.Globalization.CultureInfo.InvariantCulture);
                break;
            case 10 when Is(name, "Connection"u8):
                OnConnection(value);
                break;
            case 9 when Is(name, "Forwarded"u8):
            case 15 when Is(name, "X-Forwarded-For"u8):
                HasForwardedChain = true;
                break;
        }

        if (HeaderCount == _headers.Length)
        {
            Array.Resize(ref _headers, _headers.Length * 2);
        }

        _headers[HeaderCount++] = new HeaderRange(nameStart, name.Length, valueStart, value.Length);
    }

    void IHttpHeadersHandler.OnHeadersComplete(bool endStream)
    {
    }

    void IHttpHeadersHandler.OnStaticIndexedHeader(int index)
    {
        _unusual = true; // HTTP/2 and HTTP/3 only
    }

    void IHttpHeadersHandler.OnStaticIndexedHeader(int index, ReadOnlySpan<byte> value)
    {
        _unusual = true;
    }

    // "close" ends the connection after the response; other names listed stay on the client's hop.
    private void OnConnection(ReadOnlySpan<byte> value)
    {
        foreach (var range in value.Split((byte)','))
        {
            var token = value[range].Trim(" \t"u8);
            if (Is(token, "close"u8))
            {
                Close = true;
            }
            else if (Is(token, "upgrade"u8))
            {
                ConnectionUpgrade = true; // (Upgrade stays on the hop, but for an upgrade's own)
            }
            else if (token.Length > 0 && !Is(token, "keep-alive"u8))
            {
                Listed = [.. Listed, .. HopByHopHeaders.Named(System.Text.Encoding.ASCII.GetString(token))];
            }
        }
    }

    // host or IPv4 address, optionally ":port"; anything else (IPv6 literals, odd ports) Kestrel validates.
    private static bool IsPlainHost(ReadOnlySpan<byte> value)
    {
        var colon = value.IndexOf((byte)':');
        var host = colon < 0 ? value : value[..colon];
        var port = colon < 0 ? [] : value[(colon + 1)..];
        return host.Length > 0 && !host.ContainsAnyExcept(PlainHost)
            && (colon < 0 || (port.Length is > 0 and <= 5 && !port.ContainsAnyExceptInRange((byte)'0', (byte)'9')));
    }

    private int Offset(ReadOnlySpan<byte> part) =>
        (int)Unsafe.ByteOffset(ref MemoryMarshal.GetReference(_bytes.Span), ref MemoryMarshal.GetReference(part));

    private static bool Is(ReadOnlySpan<byte> text, ReadOnlySpan<byte> name) => System.Text.Ascii.EqualsIgnoreCase(text, name);
}

/// <summary>Kestrel's request limits, as Rampart's own server applies them (it leaves anything near one to Kestrel).</summary>
internal sealed record ServerLimits(
    int MaxRequestLineSize,
    int MaxRequestHeadersTotalSize,
    int MaxRequestHeaderCount,
    long MaxRequestBodySize,
    TimeSpan KeepAliveTimeout,
    double MinRequestBodyDataRate,
    TimeSpan MinRequestBodyDataRateGracePeriod,
    double MinResponseDataRate,
    TimeSpan MinResponseDataRateGracePeriod)
{
    /// <summary>A head this long or longer is Kestrel's to judge.</summary>
    public int MaxHeadBytes => MaxRequestLineSize + MaxRequestHeadersTotalSize;

    public static ServerLimits From(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerLimits limits) => new(
        limits.MaxRequestLineSize,
        limits.MaxRequestHeadersTotalSize,
        limits.MaxRequestHeaderCount,
        limits.MaxRequestBodySize ?? long.MaxValue,
        limits.KeepAliveTimeout,
        limits.MinRequestBodyDataRate?.BytesPerSecond ?? 0,
        limits.MinRequestBodyDataRate?.GracePeriod ?? TimeSpan.Zero,
        limits.MinResponseDataRate?.BytesPerSecond ?? 0,
        limits.MinResponseDataRate?.GracePeriod ?? TimeSpan.Zero);
}
