using Microsoft.AspNetCore.Http;

namespace Rampart.Proxy.Forwarding;

/// <summary>
/// Hop-by-hop headers stay on their hop (RFC 9110 §7.6.1), in both directions: every header named in
/// <c>Connection</c>, and the fixed set (<c>Keep-Alive</c>, <c>Proxy-Connection</c>, and the proxy's own
/// credentials, <c>Proxy-Authorization</c> and <c>Proxy-Authenticate</c>).
/// </summary>
internal static class HopByHopHeaders
{
    private static readonly string[] Fixed = ["Keep-Alive", "Proxy-Connection", "Proxy-Authorization"];

    /// <summary>Whether a request header is one of the fixed hop-by-hop set (<c>Keep-Alive</c>, <c>Proxy-Connection</c>, <c>Proxy-Authorization</c>).</summary>
    public static bool IsFixedRequestHeader(ReadOnlySpan<char> name) => Contains(Fixed, name);

    /// <summary>Whether <paramref name="names"/> holds <paramref name="name"/>, in any case (a loop: no closure per header).</summary>
    public static bool Contains(string[] names, ReadOnlySpan<char> name)
    {
        foreach (var other in names)
        {
            if (name.Equals(other, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The header names a request's <c>Connection</c> header lists (they stay on their hop); empty, allocating nothing, in the usual case.</summary>
    public static string[] ListedIn(IHeaderDictionary headers)
    {
        var connection = headers.Connection;
        if (connection.Count == 0)
        {
            return [];
        }

        if (connection.Count == 1)
        {
            return Named(connection[0]);
        }

        List<string> names = [];
        foreach (var value in connection)
        {
            names.AddRange(Named(value));
        }

        return [.. names];
    }

    /// <summary>Removes the request's hop-by-hop headers from the outgoing request (the upgrade of an upgrade request excepted).</summary>
    public static void Strip(HttpContext context, HttpRequestMessage proxyRequest)
    {
        var headers = proxyRequest.Headers;
        var incoming = context.Request.Headers;
        foreach (var name in Fixed)
        {
            if (incoming.ContainsKey(name))
            {
                headers.Remove(name);
            }
        }

        var connection = incoming.Connection;
        if (connection.Count == 0)
        {
            return;
        }

        var upgrade = incoming.Upgrade.Count > 0;
        foreach (var value in connection)
        {
            foreach (var name in Named(value))
            {
                if (!(upgrade && name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase)))
                {
                    headers.Remove(name);
                    proxyRequest.Content?.Headers.Remove(name);
                }
            }
        }
    }

    private static readonly string[] FixedResponse = ["Keep-Alive", "Proxy-Connection", "Proxy-Authenticate"];

    /// <summary>
    /// Whether a response header stays on the destination's hop whatever <c>Connection</c> lists: the fixed set, and (for
    /// a forwarder that frames the client's response itself) the destination's framing and connection options.
    /// </summary>
    public static bool IsFixedResponseHeader(ReadOnlySpan<char> name, bool framing, int status) =>
        Contains(FixedResponse, name)
        || (framing && (name.Equals("Connection", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
            || (status != 101 && name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase))));

    /// <summary>Removes the destination's hop-by-hop headers from the client's response.</summary>
    public static void Strip(HttpResponseMessage response, IHeaderDictionary headers)
    {
        // Kestrel's response headers: known names are a bit test, and Proxy-Connection a lookup in an empty dictionary.
        foreach (var name in FixedResponse)
        {
            headers.Remove(name);
        }

        if (response.Headers.NonValidated.TryGetValues("Connection", out var connection))
        {
            foreach (var value in connection)
            {
                foreach (var name in Named(value))
                {
                    headers.Remove(name);
                }
            }
        }
    }

    // The header names one Connection value lists; "close" and "keep-alive" are options of the connection, not names to
    // remove, and the usual value is one of them alone: nothing is split or allocated then.
    public static string[] Named(string? value) =>
        value is null || IsOption(value)
            ? []
            : Array.FindAll(value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), part => !IsOption(part));

    private static bool IsOption(string value) =>
        value.Equals("close", StringComparison.OrdinalIgnoreCase) || value.Equals("keep-alive", StringComparison.OrdinalIgnoreCase);
}
