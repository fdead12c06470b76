using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Rampart.CircuitBreaking;
using Rampart.Clusters;
using Yarp.ReverseProxy.Forwarder;

namespace Rampart.Proxy.Forwarding;

/// <summary>
/// YARP's default transforms, hop-by-hop headers kept on their hop, the forwarded headers, and the hook that keeps
/// a failure response from the client when the request will be retried on another destination.
/// </summary>
internal sealed class RampartTransformer(ClusterState cluster, ForwardedHeaders forwarded) : HttpTransformer
{
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        HopByHopHeaders.Strip(httpContext, proxyRequest);
        forwarded.Apply(httpContext, proxyRequest);
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
            if (result == CallResult.Failure && attempt.MayRetryOnStatus
                && cluster.HasUntriedAvailable(attempt.Tried) && cluster.RetryBudget.TryRetry())
            {
                // A failure that will be retried is never shown to the client: copy nothing, send nothing.
                attempt.Suppressed = true;
                return ValueTask.FromResult(false);
            }

            if (attempt.Refused)
            {
                return ValueTask.FromResult(false); // the forwarder answers 502 in its place
            }
        }

        var copy = base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        if (proxyResponse is null)
        {
            return copy;
        }

        if (!copy.IsCompletedSuccessfully)
        {
            return StripAfterAsync(copy, proxyResponse, httpContext.Response.Headers);
        }

        HopByHopHeaders.Strip(proxyResponse, httpContext.Response.Headers); // the copy completes at once: no state machine
        return copy;
    }

    private static async ValueTask<bool> StripAfterAsync(ValueTask<bool> copy, HttpResponseMessage proxyResponse, IHeaderDictionary headers)
    {
        var result = await copy.ConfigureAwait(false);
        HopByHopHeaders.Strip(proxyResponse, headers);
        return result;
    }

    private static bool AskedForUpgrade(HttpContext context) =>
        context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
        || context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true };
}
