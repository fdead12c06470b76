using System.Text;

namespace Rampart.Proxy.Tests.Adversarial;

/// <summary>A bad request: the bytes, what the client must get back, and whether any of it may reach a destination.</summary>
public sealed record Attack(Func<Uri, Task<RawResponse>> SendAsync, int[] Expected, bool ReachesDestination, string? NeverForwarded = null);

/// <summary>Every client-side attack the adversarial suite runs, by name.</summary>
public static class AttackCatalog
{
    /// <summary>Limits set low so that every limit is cheap to cross; the attempt timeout is the fixture's 2 s.</summary>
    public static readonly Dictionary<string, string?> Settings = new()
    {
        ["Rampart:Limits:MaxRequestBodySize"] = "4096",
        ["Rampart:Limits:RequestHeadersTimeout"] = "00:00:02",
        ["Rampart:Limits:MaxRequestHeadersTotalSize"] = "8192",
        ["Rampart:Limits:MaxRequestLineSize"] = "4096",
    };

    public static readonly IReadOnlyDictionary<string, Attack> All = new Dictionary<string, Attack>
    {
        ["CONNECT to a host"] = Raw("CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n", [405], reaches: false),
        ["chunked body with a garbage chunk size"] = Raw("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", [400], reaches: true),
        ["chunked body with a chunk shorter than announced, then silence"] = Raw("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc\r\n0\r\n\r\n", [408], reaches: true),
        ["POST body stalled after 5 of 100 bytes"] = Raw("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nhello", [408], reaches: true),
        ["PUT body stalled (buffered for replay)"] = Raw("PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nhello", [408], reaches: true),
        ["chunked POST body stalled"] = Raw("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", [408], reaches: true),
        ["Content-Length over the body limit"] = Raw("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999999\r\n\r\nhello", [413], reaches: false),
        ["chunked body growing over the body limit"] = Raw("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + Chunks(3, 2000) + "0\r\n\r\n", [413], reaches: true),
        ["Content-Length and Transfer-Encoding together (smuggling)"] = Raw("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n", [200], reaches: true)
            with
        { NeverForwarded = "/smuggled" }, // Kestrel reads it as chunked (RFC 9112 §6.3) and closes the connection after it
        ["two different Content-Lengths"] = Raw("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd", [400], reaches: false),
        ["header block over the limit"] = Raw("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + new string('a', 10_000) + "\r\n\r\n", [431], reaches: false),
        ["request line over the limit"] = Raw("GET /" + new string('a', 5000) + " HTTP/1.1\r\nHost: a\r\n\r\n", [414], reaches: false),
        ["not HTTP at all (a TLS hello)"] = new(address => RawHttp.SendAsync(address, [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a]), [400, 0], ReachesDestination: false),
        ["a space inside a header name"] = Raw("GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n", [400], reaches: false),
        ["an upgrade to h2c"] = Raw("GET /upgrade HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n", [200], reaches: true),
        ["HTTP/1.0 without a Host"] = Raw("GET /old HTTP/1.0\r\n\r\n", [200], reaches: true),
        ["a TRACE with a body"] = Raw("TRACE / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", [400, 200, 405], reaches: true),
    };

    private static Attack Raw(string request, int[] expected, bool reaches) => new(address => RawHttp.SendAsync(address, request), expected, reaches);

    private static string Chunks(int count, int size)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            builder.Append(size.ToString("x", System.Globalization.CultureInfo.InvariantCulture)).Append("\r\n").Append('x', size).Append("\r\n");
        }

        return builder.ToString();
    }
}
