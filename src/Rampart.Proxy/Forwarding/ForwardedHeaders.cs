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

    public void Apply(HttpContext context, HttpRequestMessage proxyRequest)
    {
        if (Mode == ForwardedHeadersMode.Off)
        {
            return;
        }

        var headers = proxyRequest.Headers;
        var request = context.Request;
        var client = context.Connection.RemoteIpAddress;
        var host = request.Host.Value; // empty for an HTTP/1.0 request without Host: then no host is claimed
        var append = Mode == ForwardedHeadersMode.Append;

        // A family not written here passes as the client sent it (the forwarder copied it), unless the mode is Replace.
        if (Format != ForwardedHeadersFormat.Forwarded || !append)
        {
            headers.Remove(XForwardedFor);
            headers.Remove(XForwardedProto);
            headers.Remove(XForwardedHost);
        }

        if (Format != ForwardedHeadersFormat.Forwarded)
        {
            var earlier = append ? request.Headers[XForwardedFor].ToString() : "";
            var self = client?.ToString();
            var chain = self is null ? earlier : earlier.Length == 0 ? self : earlier + ", " + self;
            if (chain.Length > 0)
            {
                headers.TryAddWithoutValidation(XForwardedFor, chain);
            }

            headers.TryAddWithoutValidation(XForwardedProto, request.Scheme);
            if (!string.IsNullOrEmpty(host))
            {
                headers.TryAddWithoutValidation(XForwardedHost, host);
            }
        }

        if (Format != ForwardedHeadersFormat.XForwarded || !append)
        {
            headers.Remove(Forwarded);
        }

        if (Format != ForwardedHeadersFormat.XForwarded)
        {
            var element = "for=" + Node(client) + ";proto=" + request.Scheme + (string.IsNullOrEmpty(host) ? "" : ";host=" + Value(host));
            var earlier = append ? request.Headers[Forwarded].ToString() : "";
            headers.TryAddWithoutValidation(Forwarded, earlier.Length == 0 ? element : earlier + ", " + element);
        }
    }

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
