using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Rampart.CircuitBreaking;
using Rampart.Clusters;
using Yarp.ReverseProxy.Forwarder;

namespace Rampart.Proxy.Forwarding;

/// <summary>
/// YARP's default transforms plus <c>X-Forwarded-For/Proto/Host</c>, and the hook that keeps a failure
/// response from the client when the request will be retried on another destination.
/// </summary>
internal sealed class RampartTransformer(ClusterState cluster) : HttpTransformer
{
    private const string ForwardedFor = "X-Forwarded-For";

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        var headers = proxyRequest.Headers;
        if (httpContext.Connection.RemoteIpAddress is { } remote)
        {
            var client = remote.ToString();
            var earlier = httpContext.Request.Headers[ForwardedFor].ToString();
            headers.Remove(ForwardedFor);
            headers.TryAddWithoutValidation(ForwardedFor, earlier.Length == 0 ? client : earlier + ", " + client);
        }

        headers.Remove("X-Forwarded-Proto");
        headers.TryAddWithoutValidation("X-Forwarded-Proto", httpContext.Request.Scheme);
        headers.Remove("X-Forwarded-Host");
        headers.TryAddWithoutValidation("X-Forwarded-Host", httpContext.Request.Host.Value);
    }

    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var attempt = httpContext.Features.Get<ProxyAttempt>();
        if (proxyResponse is not null && attempt is not null)
        {
            var (result, detail) = cluster.FailurePolicy.ClassifyStatus((int)proxyResponse.StatusCode);
            if (proxyResponse.StatusCode == HttpStatusCode.SwitchingProtocols && !AskedForUpgrade(httpContext))
            {
                // Passing it on would hand the client's connection to a protocol it never asked for.
                (result, detail) = (CallResult.Failure, "101 Switching Protocols to a request that asked for no upgrade");
                attempt.Refused = true;
            }

            attempt.Result = result;
            attempt.Detail = detail;
            if (attempt.Refused)
            {
                attempt.Suppressed = attempt.MayRetryOnStatus && cluster.HasUntriedAvailable(attempt.Tried) && cluster.RetryBudget.TryRetry();
                return ValueTask.FromResult(false);
            }

            if (result == CallResult.Failure && attempt.MayRetryOnStatus
                && cluster.HasUntriedAvailable(attempt.Tried) && cluster.RetryBudget.TryRetry())
            {
                // A failure that will be retried is never shown to the client: copy nothing, send nothing.
                attempt.Suppressed = true;
                return ValueTask.FromResult(false);
            }
        }

        return base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
    }

    private static bool AskedForUpgrade(HttpContext context) =>
        context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
        || context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true };
}
