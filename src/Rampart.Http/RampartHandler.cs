using System.Globalization;
using System.Net;
using System.Runtime.ExceptionServices;
using Rampart.Clusters;
using Rampart.Failover;
using Rampart.Health;

namespace Rampart.Http;

/// <summary>
/// Sends each call to one of the cluster's destinations instead of the logical address: the transport of the core's
/// <see cref="AttemptLoop"/> over the inner handler, so that a call gets the proxy's decisions (available destinations
/// only, load balancing, a breaker and passive health per destination, failover when it is safe).
/// </summary>
/// <remarks>
/// The state lives in a <see cref="ClusterState"/> owned by the client's registry, not in the handler,
/// so <c>IHttpClientFactory</c> rotating its handlers neither resets health nor duplicates probes.
/// </remarks>
internal sealed class RampartHandler(RampartClientRegistry.Client client, TimeProvider time) : DelegatingHandler, IAttemptTransport<RampartHandler.Call>
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var (cluster, options) = client.Now; // a reload swaps both; this call runs to its end on what it started with
        var call = new Call(request);
        var content = request.Content;
        var loop = AttemptLoop.Rent(cluster, request.Method.Method, content is not null, content?.Headers.ContentLength, cancellationToken);
        try
        {
            if (loop.BufferBody)
            {
                await content!.LoadIntoBufferAsync(cluster.Options.Retry.MaxBufferedBodyBytes, cancellationToken).ConfigureAwait(false);
            }

            var result = await loop.RunAsync(this, call).ConfigureAwait(false);
            return result.Outcome switch
            {
                FailoverOutcome.Answered => call.Response!,
                FailoverOutcome.NoDestination => NoDestination(cluster, options),
                _ => throw Failure(cluster, result),
            };
        }
        finally
        {
            loop.Return();
            call.Restore();
        }
    }

    async ValueTask<AttemptEnd> IAttemptTransport<Call>.SendAsync(Call call, AttemptLoop attempts, CancellationToken cancellationToken)
    {
        var request = call.Request;
        var destination = attempts.Destination;
        request.RequestUri = new Uri(destination.Endpoint.AddressPrefix + call.Original.PathAndQuery);
        if (destination.Endpoint.HttpVersion.Major >= 2)
        {
            // The cluster says its destinations speak HTTP/2 (HttpVersion "2"); "1.1" leaves the caller's choice alone.
            (request.Version, request.VersionPolicy) = (destination.Endpoint.HttpVersion, destination.Endpoint.HttpVersionPolicy);
        }

        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var timer = time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), attempt, attempts.Cluster.Options.AttemptTimeout, Timeout.InfiniteTimeSpan);
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, attempt.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            // The loop tells the caller's cancellation and the deadline apart from the attempt's own timeout.
            var error = ex is OperationCanceledException && !cancellationToken.IsCancellationRequested ? AttemptError.RequestTimedOut : AttemptError.Request;
            return new AttemptEnd(error, ex, NothingSent: TransportErrors.NothingSent(ex));
        }

        if (attempts.OnResponse((int)response.StatusCode) == ResponseVerdict.Retry)
        {
            response.Dispose(); // a failure that is retried is never handed back
        }
        else
        {
            call.Response = response;
        }

        return AttemptEnd.Received;
    }

    void IAttemptTransport<Call>.PrepareRetry(Call call)
    {
    }

    private static Exception Failure(ClusterState cluster, FailoverResult result)
    {
        if (result.Error is AttemptError.RequestTimedOut or AttemptError.DeadlinePassed && result.Outcome != FailoverOutcome.CallerGone)
        {
            var after = result.Error == AttemptError.DeadlinePassed ? cluster.Options.Timeout : cluster.Options.AttemptTimeout;
            return new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                $"The call to {cluster.Id}/{result.Destination?.Id} timed out after {after}."), result.Exception);
        }

        if (result.Exception is { } exception)
        {
            ExceptionDispatchInfo.Throw(exception); // the transport's own failure, with its stack
        }

        return new HttpRequestException($"The call to {cluster.Id}/{result.Destination?.Id} failed: {result.Error}.");
    }

    private static HttpResponseMessage NoDestination(ClusterState cluster, RampartClientOptions options)
    {
        var retryAfter = cluster.RetryAfter();
        if (!options.ReturnServiceUnavailable)
        {
            throw new NoDestinationAvailableException(cluster.Id, retryAfter);
        }

        var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
        {
            Content = new StringContent($"No destination of '{cluster.Id}' is available."),
        };
        response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(Math.Ceiling(retryAfter.TotalSeconds)));
        return response;
    }

    /// <summary>One call through the handler: the caller's request, changed per attempt and restored at the end, and the response to hand back.</summary>
    internal sealed class Call(HttpRequestMessage request)
    {
        private readonly Version _version = request.Version;
        private readonly HttpVersionPolicy _versionPolicy = request.VersionPolicy;

        public HttpRequestMessage Request { get; } = request;

        public Uri Original { get; } = request.RequestUri ?? throw new InvalidOperationException("The request has no URI.");

        public HttpResponseMessage? Response { get; set; }

        public void Restore()
        {
            Request.RequestUri = Original;
            (Request.Version, Request.VersionPolicy) = (_version, _versionPolicy);
        }
    }
}
