using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Rampart.Proxy.Forwarding;

/// <summary>
/// Hop-by-hop headers stay on their hop (RFC 9110 §7.6.1), in both directions: every header named in
/// <c>Connection</c>, and the fixed set (<c>Keep-Alive</c>, <c>Proxy-Connection</c>, and the proxy's own
/// credentials, <c>Proxy-Authorization</c> and <c>Proxy-Authenticate</c>).
/// </summary>
internal static class HopByHopHeaders
{
    private static readonly string[] Fixed = ["Keep-Alive", "Proxy-Connection", "Proxy-Authorization"];

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

        var upgrade = context.Request.Headers.Upgrade.Count > 0;
        foreach (var name in Named(connection))
        {
            if (!(upgrade && name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase)))
            {
                headers.Remove(name);
                proxyRequest.Content?.Headers.Remove(name);
            }
        }
    }

    /// <summary>Removes the destination's hop-by-hop headers from the client's response.</summary>
    public static void Strip(HttpResponseMessage response, IHeaderDictionary headers)
    {
        // Kestrel's response headers: known names are a bit test, and Proxy-Connection a lookup in an empty dictionary.
        headers.Remove("Keep-Alive");
        headers.Remove("Proxy-Connection");
        headers.Remove("Proxy-Authenticate");
        if (response.Headers.NonValidated.TryGetValues("Connection", out var connection) && HasNames(connection))
        {
            foreach (var name in Named(connection))
            {
                headers.Remove(name);
            }
        }
    }

    // The header names a Connection header lists; "close" and "keep-alive" are options of the connection, not names to remove.
    private static IEnumerable<string> Named(IEnumerable<string?> values)
    {
        foreach (var value in values)
        {
            if (value is null || IsOption(value))
            {
                continue; // the usual case, without splitting
            }

            foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!IsOption(part))
                {
                    yield return part;
                }
            }
        }
    }

    private static bool HasNames(HeaderStringValues values)
    {
        foreach (var value in values)
        {
            if (!IsOption(value))
            {
                return true; // a list, or a name: worth the closer look
            }
        }

        return false;
    }

    private static bool IsOption(string value) =>
        value.Equals("close", StringComparison.OrdinalIgnoreCase) || value.Equals("keep-alive", StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<string> Named(HeaderStringValues values) => Named(values.Select(v => (string?)v));

    private static IEnumerable<string> Named(StringValues values) => Named((IEnumerable<string?>)values);
}
