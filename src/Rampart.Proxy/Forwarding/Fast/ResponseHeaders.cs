using System.Collections.Frozen;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>Copies a parsed response head's headers into Kestrel's response, but those that belong to the destination's hop.</summary>
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
        string[] listed = parsed.ConnectionListsNames ? Listed(head, parsed) : [];
        foreach (var header in parsed.Headers)
        {
            var name = Name(head.Slice(header.NameStart, header.NameLength));
            if (HopByHopHeaders.IsFixedResponseHeader(name, framing: true, parsed.Status) || HopByHopHeaders.Contains(listed, name))
            {
                continue;
            }

            var value = Encoding.Latin1.GetString(head.Slice(header.ValueStart, header.ValueLength));
            headers.Append(name, value);
        }
    }

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

    // The names the destination's Connection header lists (a rare head: only when the parser saw one).
    private static string[] Listed(ReadOnlySpan<byte> head, ResponseHead parsed)
    {
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
