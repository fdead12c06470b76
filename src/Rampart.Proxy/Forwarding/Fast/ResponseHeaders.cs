using System.Collections.Frozen;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>Which of a parsed response head's headers reach the client (those of the destination's hop do not), and their copy into Kestrel's response.</summary>
internal static class ResponseHeaders
{
    private static readonly string[] Common =
    [
        HeaderNames.ContentType, HeaderNames.ContentLength, HeaderNames.Date, HeaderNames.Server, HeaderNames.CacheControl,
        HeaderNames.ETag, HeaderNames.LastModified, HeaderNames.Expires, HeaderNames.SetCookie, HeaderNames.Location,
        HeaderNames.Vary, HeaderNames.ContentEncoding, HeaderNames.AcceptRanges, HeaderNames.Age, HeaderNames.ContentLanguage,
        HeaderNames.ContentDisposition, HeaderNames.ContentRange, HeaderNames.AccessControlAllowOrigin, HeaderNames.StrictTransportSecurity,
        HeaderNames.XContentTypeOptions, HeaderNames.XFrameOptions, HeaderNames.RetryAfter, HeaderNames.WWWAuthenticate, HeaderNames.Via,
        HeaderNames.AltSvc, HeaderNames.Link, HeaderNames.Pragma, HeaderNames.Allow, HeaderNames.Connection, HeaderNames.TransferEncoding,
        HeaderNames.KeepAlive, HeaderNames.ProxyAuthenticate,
    ];

    // Names as the destination usually spells them, without a string per response.
    private static readonly FrozenDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> Names =
        Common.ToFrozenDictionary(n => n, StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();

    public static void Copy(ReadOnlySpan<byte> head, ResponseHead parsed, HttpResponse response)
    {
        var headers = response.Headers;
        var listed = Listed(head, parsed);
        foreach (var header in parsed.Headers)
        {
            var name = Name(head.Slice(header.NameStart, header.NameLength));
            if (!Passes(name, parsed.Status, listed))
            {
                continue;
            }

            var value = Encoding.Latin1.GetString(head.Slice(header.ValueStart, header.ValueLength));
            headers.Append(name, value);
        }
    }

    /// <summary>Whether a header of the destination's response reaches the client: not when it belongs to the destination's hop (fixed ones, its framing, those its <c>Connection</c> lists).</summary>
    public static bool Passes(ReadOnlySpan<char> name, int status, string[] listed) =>
        !HopByHopHeaders.IsFixedResponseHeader(name, framing: true, status) && !HopByHopHeaders.Contains(listed, name);

    private static string Name(ReadOnlySpan<byte> bytes)
    {
        Span<char> chars = stackalloc char[Math.Min(bytes.Length, 256)];
        if (bytes.Length <= chars.Length)
        {
            var length = Encoding.Latin1.GetChars(bytes, chars);
            if (Names.TryGetValue(chars[..length], out var known))
            {
                return known;
            }
        }

        return Encoding.Latin1.GetString(bytes);
    }

    /// <summary>The names the destination's <c>Connection</c> header lists (none, allocating nothing, unless the parser saw one).</summary>
    public static string[] Listed(ReadOnlySpan<byte> head, ResponseHead parsed)
    {
        if (!parsed.ConnectionListsNames)
        {
            return [];
        }

        List<string> names = [];
        foreach (var header in parsed.Headers)
        {
            if (ResponseParser.Is(head.Slice(header.NameStart, header.NameLength), "Connection"u8))
            {
                names.AddRange(HopByHopHeaders.Named(Encoding.Latin1.GetString(head.Slice(header.ValueStart, header.ValueLength))));
            }
        }

        return [.. names];
    }
}
