using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;

namespace Rampart.Proxy.Forwarding;

/// <summary>What Rampart does with the headers that tell a destination who the client was (<c>Rampart:ForwardedHeaders</c>).</summary>
public enum ForwardedHeadersMode
{
    /// <summary>Adds the client's address to what the request already carries (trust only the last entry: Rampart's).</summary>
    Append = 0,

    /// <summary>Drops whatever the client sent in these headers and sends only what Rampart saw: for a proxy at the edge.</summary>
    Replace = 1,

    /// <summary>Adds nothing and removes nothing: the headers pass as the client sent them.</summary>
    Off = 2,
}

/// <summary>Which headers carry it (<c>Rampart:ForwardedHeadersFormat</c>).</summary>
public enum ForwardedHeadersFormat
{
    /// <summary><c>X-Forwarded-For</c>, <c>X-Forwarded-Proto</c>, <c>X-Forwarded-Host</c>.</summary>
    XForwarded = 0,

    /// <summary><c>Forwarded</c> (RFC 7239): <c>for=…;proto=…;host=…</c>.</summary>
    Forwarded = 1,

    /// <summary>Both.</summary>
    Both = 2,
}

/// <summary>Writes the forwarded headers of an outgoing request by the configured mode and format.</summary>
internal sealed record ForwardedHeaders(ForwardedHeadersMode Mode, ForwardedHeadersFormat Format)
{
    private const string XForwardedFor = "X-Forwarded-For";
    private const string XForwardedProto = "X-Forwarded-Proto";
    private const string XForwardedHost = "X-Forwarded-Host";
    private const string Forwarded = "Forwarded";

    /// <summary>Whether the client's <c>X-Forwarded-*</c> headers are dropped (rewritten, or replaced) rather than passed on.</summary>
    public bool DropsXForwarded => Mode != ForwardedHeadersMode.Off && (Format != ForwardedHeadersFormat.Forwarded || Mode != ForwardedHeadersMode.Append);

    /// <summary>Whether the client's <c>Forwarded</c> header is dropped (rewritten, or replaced) rather than passed on.</summary>
    public bool DropsForwarded => Mode != ForwardedHeadersMode.Off && (Format != ForwardedHeadersFormat.XForwarded || Mode != ForwardedHeadersMode.Append);

    /// <summary>Whether <paramref name="name"/> is one of the headers this mode drops from the client's request.</summary>
    public bool Drops(ReadOnlySpan<char> name) =>
        (DropsXForwarded && (name.Equals(XForwardedFor, StringComparison.OrdinalIgnoreCase) || name.Equals(XForwardedProto, StringComparison.OrdinalIgnoreCase) || name.Equals(XForwardedHost, StringComparison.OrdinalIgnoreCase)))
        || (DropsForwarded && name.Equals(Forwarded, StringComparison.OrdinalIgnoreCase));

    /// <summary>The values this mode and format write for <paramref name="context"/>'s request (null: not written). The one decision of both forwarders.</summary>
    public (string? For, string? Proto, string? Host, string? Forwarded) Values(HttpContext context)
    {
        if (Mode == ForwardedHeadersMode.Off)
        {
            return default;
        }

        var request = context.Request;
        var append = Mode == ForwardedHeadersMode.Append;
        return Values(
            context.Connection.RemoteIpAddress,
            request.Scheme,
            request.Host.Value, // empty for an HTTP/1.0 request without Host: then no host is claimed
            append ? request.Headers[XForwardedFor].ToString() : "",
            append ? request.Headers[Forwarded].ToString() : "");
    }

    /// <summary>The values for a request from <paramref name="client"/> that carried the chains <paramref name="earlierFor"/> and <paramref name="earlierForwarded"/> ("" for none).</summary>
    public (string? For, string? Proto, string? Host, string? Forwarded) Values(IPAddress? client, string scheme, string? host, string earlierFor, string earlierForwarded)
    {
        if (Mode == ForwardedHeadersMode.Off)
        {
            return default;
        }

        var append = Mode == ForwardedHeadersMode.Append;
        string? forwardedFor = null, proto = null, forwardedHost = null, forwarded = null;
        if (Format != ForwardedHeadersFormat.Forwarded)
        {
            var earlier = append ? earlierFor : "";
            var self = client?.ToString();
            var chain = self is null ? earlier : earlier.Length == 0 ? self : earlier + ", " + self;
            forwardedFor = chain.Length > 0 ? chain : null;
            proto = scheme;
            forwardedHost = string.IsNullOrEmpty(host) ? null : host;
        }

        if (Format != ForwardedHeadersFormat.XForwarded)
        {
            var element = "for=" + Node(client) + ";proto=" + scheme + (string.IsNullOrEmpty(host) ? "" : ";host=" + Value(host));
            var earlier = append ? earlierForwarded : "";
            forwarded = earlier.Length == 0 ? element : earlier + ", " + element;
        }

        return (forwardedFor, proto, forwardedHost, forwarded);
    }

    /// <summary>Writes them onto YARP's outgoing request (which copied the client's headers).</summary>
    public void Apply(HttpContext context, HttpRequestMessage proxyRequest)
    {
        if (Mode == ForwardedHeadersMode.Off)
        {
            return;
        }

        var headers = proxyRequest.Headers;
        if (DropsXForwarded)
        {
            headers.Remove(XForwardedFor);
            headers.Remove(XForwardedProto);
            headers.Remove(XForwardedHost);
        }

        if (DropsForwarded)
        {
            headers.Remove(Forwarded);
        }

        var (forwardedFor, proto, host, forwarded) = Values(context);
        Add(headers, XForwardedFor, forwardedFor);
        Add(headers, XForwardedProto, proto);
        Add(headers, XForwardedHost, host);
        Add(headers, Forwarded, forwarded);

        static void Add(System.Net.Http.Headers.HttpRequestHeaders headers, string name, string? value)
        {
            if (value is not null)
            {
                headers.TryAddWithoutValidation(name, value);
            }
        }
    }

    /// <summary>The header names <c>Values</c> are written under, in its order.</summary>
    public static (string For, string Proto, string Host, string Forwarded) Names => (XForwardedFor, XForwardedProto, XForwardedHost, Forwarded);

    // RFC 7239 §6: an IPv6 node is bracketed and quoted; an unknown client is "unknown".
    private static string Node(IPAddress? address) => address switch
    {
        null => "unknown",
        { AddressFamily: AddressFamily.InterNetworkV6 } => "\"[" + address + "]\"",
        _ => address.ToString(),
    };

    // A token as it is; anything else (a host with a port has ':') as a quoted string.
    private static string Value(string value) =>
        value.AsSpan().ContainsAnyExcept(TokenCharacters) ? "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"" : value;

    private static readonly System.Buffers.SearchValues<char> TokenCharacters =
        System.Buffers.SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
}
