using System.Net;
using Microsoft.AspNetCore.Http;
using Rampart.Failover;
using Rampart.Proxy.Diagnostics;
using Yarp.ReverseProxy.Forwarder;

namespace Rampart.Proxy.Forwarding;

/// <summary>
/// YARP's default transforms, hop-by-hop headers kept on their hop, the forwarded headers, and the hook that keeps
/// a failure response from the client when the request will be retried on another destination.
/// </summary>
internal sealed class RampartTransformer(ForwardedHeaders forwarded) : HttpTransformer
{
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        HopByHopHeaders.Strip(httpContext, proxyRequest);
        forwarded.Apply(httpContext, proxyRequest);
        if (RequestTracing.ForDestination() is { } trace)
        {
            // The destination continues the attempt's span, not the client's.
            proxyRequest.Headers.Remove("traceparent");
            proxyRequest.Headers.Remove("tracestate");
            proxyRequest.Headers.TryAddWithoutValidation("traceparent", trace.TraceParent);
            if (trace.TraceState is { Length: > 0 } state)
            {
                proxyRequest.Headers.TryAddWithoutValidation("tracestate", state);
            }
        }
    }

    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is not null && httpContext.Features.Get<ProxyAttempt>() is { } attempt)
        {
            // Passing on a 101 the request did not ask for would hand the client's connection to a protocol it never asked for.
            var unexpectedUpgrade = proxyResponse.StatusCode == HttpStatusCode.SwitchingProtocols && !ClientRequests.AsksForUpgrade(httpContext);
            if (attempt.Loop.OnResponse((int)proxyResponse.StatusCode, unexpectedUpgrade) != ResponseVerdict.PassOn)
            {
                return ValueTask.FromResult(false); // kept from the client: copy nothing, send nothing
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
}
