using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Rampart.Proxy.Forwarding;

/// <summary>Requests answered by Rampart itself, before any destination is involved: what the client asked for cannot or must not be forwarded.</summary>
internal static class ClientRequests
{
    /// <summary>The answer to a request that must not be forwarded, or <see langword="null"/> for one that may (allocates nothing).</summary>
    public static Refusal? Refusal(HttpContext context)
    {
        var request = context.Request;
        // Rampart is a reverse proxy, not a forward proxy: CONNECT host:port is never tunnelled. (HTTP/2's
        // extended CONNECT, WebSockets over HTTP/2, is an upgrade of an ordinary request and is forwarded.)
        if (HttpMethods.IsConnect(request.Method) && context.Features.Get<IHttpExtendedConnectFeature>() is not { IsExtendedConnect: true })
        {
            return Forwarding.Refusal.Connect;
        }

        // A declared body over the limit is refused before it is read, so the destination never sees the request.
        if (request.ContentLength is { } length
            && context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize is { } limit
            && length > limit)
        {
            return Forwarding.Refusal.BodyTooLarge;
        }

        return null;
    }

    /// <summary>Whether the request asks for an upgrade (WebSockets over HTTP/1.1's <c>Upgrade</c>, or HTTP/2's extended CONNECT).</summary>
    public static bool AsksForUpgrade(HttpContext context) =>
        context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
        || context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true };
}

/// <summary>A client's request answered by Rampart with a 4xx: no destination is involved, nothing counts against one.</summary>
internal sealed partial class Refusal(int status, string reason, string? allow = null)
{
    /// <summary>CONNECT: 405.</summary>
    public static readonly Refusal Connect = new(StatusCodes.Status405MethodNotAllowed,
        "CONNECT is not supported: Rampart is a reverse proxy, not a forward proxy", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE");

    /// <summary>A Content-Length over the body size limit: 413.</summary>
    public static readonly Refusal BodyTooLarge = new(StatusCodes.Status413PayloadTooLarge, "the request body is larger than the limit (Rampart:Limits:MaxRequestBodySize)");

    public Task WriteAsync(HttpContext context, string clusterId, ILogger logger)
    {
        Log.Refused(logger, clusterId, status, reason);
        var response = context.Response;
        response.StatusCode = status;
        if (allow is not null)
        {
            response.Headers[HeaderNames.Allow] = allow;
        }

        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            response.Headers.Connection = "close"; // the body was never read: close rather than drain it
        }

        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(reason, context.RequestAborted);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3006, Level = LogLevel.Debug, Message = "Cluster {ClusterId}: answered {Status} without forwarding ({Reason})")]
        public static partial void Refused(ILogger logger, string clusterId, int status, string reason);
    }
}
