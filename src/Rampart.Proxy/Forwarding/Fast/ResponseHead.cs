namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>How a response's body is delimited.</summary>
internal enum BodyFraming
{
    /// <summary>No body: HEAD, 1xx, 204, 304.</summary>
    None,

    /// <summary><c>Content-Length</c> bytes.</summary>
    ContentLength,

    /// <summary><c>Transfer-Encoding: chunked</c>.</summary>
    Chunked,

    /// <summary>Until the destination closes the connection (no length, no chunking): never reused.</summary>
    UntilClose,
}

/// <summary>One header of a parsed head: offsets into the head's bytes, materialized only when it is passed on.</summary>
internal readonly record struct HeaderRange(int NameStart, int NameLength, int ValueStart, int ValueLength);

/// <summary>A destination's response head, parsed strictly; its headers stay bytes until the response is passed on.</summary>
internal sealed class ResponseHead
{
    private HeaderRange[] _headers = new HeaderRange[32];

    public int Status { get; set; }

    /// <summary>Whether it is an interim response (1xx but 101: 100 Continue, 103 Early Hints), which the final one follows.</summary>
    public bool IsInterim => Status is >= 100 and < 200 and not 101;

    /// <summary>HTTP/1.1 (else 1.0).</summary>
    public bool Http11 { get; set; }

    public BodyFraming Framing { get; set; }

    public long ContentLength { get; set; }

    /// <summary>Whether the destination keeps the connection open after this response (HTTP/1.1 without <c>close</c>, or 1.0 with <c>keep-alive</c>).</summary>
    public bool KeepAlive { get; set; }

    /// <summary>Whether the head has a <c>Connection</c> header naming other headers (they stay on their hop).</summary>
    public bool ConnectionListsNames { get; set; }

    public int HeaderCount { get; private set; }

    public ReadOnlySpan<HeaderRange> Headers => _headers.AsSpan(0, HeaderCount);

    public void Reset()
    {
        (Status, Http11, Framing, ContentLength, KeepAlive, ConnectionListsNames, HeaderCount) = (0, false, BodyFraming.None, 0, false, false, 0);
    }

    public void Add(HeaderRange header)
    {
        if (HeaderCount == _headers.Length)
        {
            Array.Resize(ref _headers, _headers.Length * 2);
        }

        _headers[HeaderCount++] = header;
    }
}
