using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Rampart.Proxy.Admin;

/// <summary>The admin bearer token: when set, a request without it gets 401. Compared in constant time.</summary>
internal static class AdminToken
{
    /// <summary>For endpoints mapped into any app with <c>MapRampartAdmin</c>.</summary>
    public static IEndpointFilter Filter(string? token) => new TokenFilter(Expected(token));

    /// <summary>For the whole admin listener, so that every path (metrics included) is covered.</summary>
    public static Func<HttpContext, RequestDelegate, Task> Middleware(string? token)
    {
        var expected = Expected(token);
        return (context, next) => Allowed(context, expected) ? next(context) : RefuseAsync(context);
    }

    private static byte[]? Expected(string? token) => string.IsNullOrEmpty(token) ? null : Encoding.UTF8.GetBytes("Bearer " + token);

    // The header, or (for the dashboard page a browser opens) an access_token query parameter, as RFC 6750 allows.
    private static bool Allowed(HttpContext context, byte[]? expected) =>
        expected is null
        || CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(context.Request.Headers.Authorization.ToString()), expected)
        || (context.Request.Query.TryGetValue("access_token", out var query)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes("Bearer " + query.ToString()), expected));

    private static Task RefuseAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }

    private sealed class TokenFilter(byte[]? expected) : IEndpointFilter
    {
        public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            if (Allowed(context.HttpContext, expected))
            {
                return next(context);
            }

            context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
            return ValueTask.FromResult<object?>(Results.Unauthorized());
        }
    }
}
