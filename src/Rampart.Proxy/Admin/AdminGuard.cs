using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Rampart.Proxy.Admin;

/// <summary>
/// The admin listener's door, safe from a browser even without a token: a request naming a foreign <c>Host</c>
/// (DNS rebinding) is refused, so is a state-changing request from another origin (<c>Origin</c> or
/// <c>Sec-Fetch-Site</c>); and when a token is set, every request needs it.
/// </summary>
/// <remarks>
/// The token comes from <c>Authorization: Bearer TOKEN</c> (scheme in any case) on every request, or from
/// <c>?access_token=TOKEN</c> on a GET of the dashboard page only (a browser opening it cannot send a header); it
/// is compared in constant time and never logged.
/// </remarks>
internal sealed class AdminGuard
{
    private readonly byte[]? _token;
    private readonly HashSet<string>? _hosts;

    /// <param name="token">The bearer token every request must carry; none when null or empty.</param>
    /// <param name="hosts">The host names requests may name; any when null (a listener on every interface, or an application's own endpoints).</param>
    public AdminGuard(string? token, IEnumerable<string>? hosts)
    {
        _token = string.IsNullOrEmpty(token) ? null : Encoding.UTF8.GetBytes(token);
        _hosts = hosts is null ? null : new HashSet<string>(hosts, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The host names a listener on <paramref name="listen"/> answers to: its own and <c>localhost</c>, plus <paramref name="allowed"/>; null (any) for a wildcard address.</summary>
    public static IEnumerable<string>? HostsFor(Uri listen, IEnumerable<string> allowed)
    {
        var host = listen.Host.Trim('[', ']');
        if (IPAddress.TryParse(host, out var address) && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)))
        {
            return null; // every interface: reached under names we cannot know (validation requires a token there)
        }

        List<string> hosts = [host, "localhost", .. allowed];
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            hosts.AddRange(["127.0.0.1", "::1"]);
        }

        return hosts;
    }

    /// <summary>For the admin listener's whole pipeline, so that every path (metrics included) is covered.</summary>
    public Func<HttpContext, RequestDelegate, Task> Middleware => (context, next) => Check(context) is { } refusal ? RefuseAsync(context, refusal) : next(context);

    /// <summary>For endpoints mapped into any app with <c>MapRampartAdmin</c>.</summary>
    public IEndpointFilter Filter => new GuardFilter(this);

    /// <summary>Why the request is refused (status and reason), or null when it may pass.</summary>
    public (int Status, string Reason)? Check(HttpContext context)
    {
        var request = context.Request;
        if (_hosts is not null && !_hosts.Contains(request.Host.Host.Trim('[', ']')))
        {
            return (StatusCodes.Status403Forbidden, "this admin listener does not answer to that Host (Rampart:Admin:AllowedHosts)");
        }

        var safe = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method);
        if (!safe && FromAnotherOrigin(request))
        {
            return (StatusCodes.Status403Forbidden, "cross-origin requests may not change anything");
        }

        if (_token is not null && !HasToken(request))
        {
            return (StatusCodes.Status401Unauthorized, "a bearer token is required");
        }

        return null;
    }

    private static bool FromAnotherOrigin(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0 && !site.Equals("same-origin", StringComparison.OrdinalIgnoreCase) && !site.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return false;
        }

        return !Uri.TryCreate(origin, UriKind.Absolute, out var from)
            || !from.Scheme.Equals(request.Scheme, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(from.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    private bool HasToken(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        var space = authorization.IndexOf(' ', StringComparison.Ordinal);
        if (space > 0 && authorization.AsSpan(0, space).Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return Matches(authorization.AsSpan(space + 1).Trim());
        }

        // RFC 6750's query form, for the page a browser opens; never for anything that changes state.
        return HttpMethods.IsGet(request.Method) && request.Path.Value is "/" or ""
            && request.Query.TryGetValue("access_token", out var query) && Matches(query.ToString());
    }

    private bool Matches(ReadOnlySpan<char> candidate)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(candidate)];
        Encoding.UTF8.GetBytes(candidate, bytes);
        return CryptographicOperations.FixedTimeEquals(bytes, _token);
    }

    private static Task RefuseAsync(HttpContext context, (int Status, string Reason) refusal)
    {
        context.Response.StatusCode = refusal.Status;
        if (refusal.Status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }

        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(refusal.Reason);
    }

    private sealed class GuardFilter(AdminGuard guard) : IEndpointFilter
    {
        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            if (guard.Check(context.HttpContext) is not { } refusal)
            {
                return await next(context).ConfigureAwait(false);
            }

            await RefuseAsync(context.HttpContext, refusal).ConfigureAwait(false);
            return Results.Empty;
        }
    }
}
