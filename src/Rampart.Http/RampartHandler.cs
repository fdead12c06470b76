using System.Globalization;
using System.Net;
using Rampart.CircuitBreaking;
using Rampart.Clusters;
using Rampart.Diagnostics;
using Rampart.Failover;
using Rampart.Health;
using Rampart.LoadBalancing;

namespace Rampart.Http;

/// <summary>
/// Sends each call to one of the cluster's destinations instead of the logical address, with the
/// proxy's rules: available destinations only, load balancing, a breaker and passive health per
/// destination, and failover to a destination not yet tried when that is safe.
/// </summary>
/// <remarks>
/// The state lives in a <see cref="ClusterState"/> owned by the client's registry, not in the handler,
/// so <c>IHttpClientFactory</c> rotating its handlers neither resets health nor duplicates probes.
/// </remarks>
internal sealed class RampartHandler(RampartClientRegistry.Client client, TimeProvider time, RampartMetrics? metrics) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var (cluster, options) = client.Now; // a reload swaps both; this call runs to its end on what it started with
        var original = request.RequestUri ?? throw new InvalidOperationException("The request has no URI.");
        var (originalVersion, originalPolicy) = (request.Version, request.VersionPolicy);
        var retry = cluster.Options.Retry;
        var idempotent = FailoverRules.IsIdempotent(request.Method.Method);
        var replayable = await PrepareContentAsync(request, idempotent, retry.MaxAttempts, retry.MaxBufferedBodyBytes, cancellationToken).ConfigureAwait(false);
        using var deadline = new CancellationTokenSource(cluster.Options.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var tried = default(TriedDestinations);
        cluster.RetryBudget.RecordRequest();
        try
        {
            for (var number = 1; ; number++)
            {
                if (!cluster.TryAcquire(ref tried, out var lease))
                {
                    return NoDestination(cluster, options);
                }

                var last = number >= retry.MaxAttempts;
                var destination = lease.Destination;
                request.RequestUri = new Uri(destination.AddressPrefix + original.PathAndQuery);
                if (destination.HttpVersion.Major >= 2)
                {
                    // The cluster says its destinations speak HTTP/2 (HttpVersion "2"); "1.1" leaves the caller's choice alone.
                    (request.Version, request.VersionPolicy) = (destination.HttpVersion, destination.HttpVersionPolicy);
                }

                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(linked.Token);
                attempt.CancelAfter(cluster.Options.AttemptTimeout);
                HttpResponseMessage response;
                var started = time.GetTimestamp();
                try
                {
                    response = await base.SendAsync(request, attempt.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        destination.Report(lease, CallResult.Ignored); // the caller gave up: never the destination's fault
                        metrics?.RecordAttempt(destination, CallResult.Ignored, time.GetElapsedTime(started));
                        throw;
                    }

                    var timedOut = attempt.IsCancellationRequested;
                    destination.Report(lease, CallResult.Failure, timedOut ? "attempt timed out" : TransportErrors.Describe(ex));
                    metrics?.RecordAttempt(destination, CallResult.Failure, time.GetElapsedTime(started));
                    var safe = (idempotent && replayable) || TransportErrors.NothingSent(ex);
                    if (last || !safe || deadline.IsCancellationRequested || !cluster.HasUntriedAvailable(tried) || !cluster.RetryBudget.TryRetry())
                    {
                        if (timedOut || deadline.IsCancellationRequested)
                        {
                            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                                $"The call to {destination.ClusterId}/{destination.Id} timed out after {(deadline.IsCancellationRequested ? cluster.Options.Timeout : cluster.Options.AttemptTimeout)}."), ex);
                        }

                        throw;
                    }

                    metrics?.RecordRetry(cluster.Id, "error");
                    continue;
                }

                var (result, detail) = cluster.FailurePolicy.ClassifyStatus((int)response.StatusCode);
                destination.Report(lease, result, detail);
                metrics?.RecordAttempt(destination, result, time.GetElapsedTime(started));
                if (result == CallResult.Failure && !last && idempotent && replayable
                    && cluster.HasUntriedAvailable(tried) && cluster.RetryBudget.TryRetry())
                {
                    response.Dispose(); // a failure that is retried is never handed back
                    metrics?.RecordRetry(cluster.Id, "status");
                    continue;
                }

                return response;
            }
        }
        finally
        {
            request.RequestUri = original;
            (request.Version, request.VersionPolicy) = (originalVersion, originalPolicy);
        }
    }

    private HttpResponseMessage NoDestination(ClusterState cluster, RampartClientOptions options)
    {
        var retryAfter = cluster.RetryAfter();
        metrics?.RecordNoDestination(cluster.Id);
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

    /// <summary>Buffers a small body of an idempotent call so that it can be sent again; says whether the call can be replayed.</summary>
    private static async Task<bool> PrepareContentAsync(HttpRequestMessage request, bool idempotent, int maxAttempts, long maxBuffered, CancellationToken cancellationToken)
    {
        if (request.Content is null)
        {
            return true;
        }

        if (!idempotent || maxAttempts <= 1 || request.Content.Headers.ContentLength is not { } length || length > maxBuffered)
        {
            return false;
        }

        await request.Content.LoadIntoBufferAsync(maxBuffered, cancellationToken).ConfigureAwait(false);
        return true;
    }
}
