using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Rampart.Clusters;
using Rampart.Diagnostics;
using Rampart.Failover;
using Rampart.Health;
using Rampart.Proxy.Diagnostics;
using Yarp.ReverseProxy.Forwarder;

namespace Rampart.Proxy.Forwarding;

/// <summary>Forwards a cluster's requests: picks a destination, forwards through YARP's <see cref="IHttpForwarder"/>, and fails over when that is safe.</summary>
/// <remarks>
/// Failover rules (DESIGN.md): a failed attempt is retried on a destination not yet tried when the
/// response has not started towards the client; the request is idempotent, or nothing reached the
/// destination (connection refused); attempts &lt; MaxAttempts; the retry budget allows it; the deadline
/// has not passed; and a request body, if any, was buffered within the limit.
/// </remarks>
internal sealed partial class ClusterForwarder : IDisposable
{
    private readonly IHttpForwarder _forwarder;
    private readonly HttpMessageInvoker _client;
    private readonly ForwarderRequestConfig _requestConfig;
    private readonly ForwarderRequestConfig _exactVersionConfig; // HTTP/2 with prior knowledge (h2c)
    private readonly RampartTransformer _transformer;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RampartMetrics? _metrics;
    private readonly LogThrottle _failureLog;

    // client: shared with the forwarder this one replaces (a reload that kept the attempt timeout); a new one when null.
    public ClusterForwarder(ClusterState cluster, IHttpForwarder forwarder, TimeProvider time, ILogger logger, RampartMetrics? metrics, ForwardedHeaders forwarded, HttpMessageInvoker? client = null)
    {
        Forwarded = forwarded;
        _metrics = metrics;
        Cluster = cluster;
        _forwarder = forwarder;
        _time = time;
        _logger = logger;
        _failureLog = new LogThrottle(time);
        _transformer = new RampartTransformer(cluster, forwarded);
        var options = cluster.Options;
        _client = client ?? new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = null,
            ConnectTimeout = options.AttemptTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            MaxConnectionsPerServer = options.MaxConnectionsPerDestination > 0 ? options.MaxConnectionsPerDestination : int.MaxValue,
        });
        _requestConfig = new ForwarderRequestConfig
        {
            ActivityTimeout = options.AttemptTimeout,
            Version = cluster.HttpVersion,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        _exactVersionConfig = _requestConfig with { VersionPolicy = HttpVersionPolicy.RequestVersionExact };
    }

    public ClusterState Cluster { get; }

    /// <summary>How the forwarded headers are written.</summary>
    public ForwardedHeaders Forwarded { get; }

    /// <summary>Whether a forwarder for <paramref name="next"/> may keep the client of one for <paramref name="previous"/>: the settings the client is built from are the same.</summary>
    public static bool CanShareClient(ClusterOptions previous, ClusterOptions next) =>
        previous.AttemptTimeout == next.AttemptTimeout && previous.MaxConnectionsPerDestination == next.MaxConnectionsPerDestination;

    /// <summary>The client requests go out through (one connection pool per cluster).</summary>
    public HttpMessageInvoker Client => _client;

    public async Task ForwardAsync(HttpContext context)
    {
        var options = Cluster.Options;
        var request = context.Request;
        if (ClientRequests.Refusal(context) is { } refusal)
        {
            await refusal.WriteAsync(context, Cluster.Id, _logger).ConfigureAwait(false);
            return; // the client's request is wrong: no destination hears of it
        }

        var idempotent = FailoverRules.IsIdempotent(request.Method);
        var (hasBody, replayable) = BodyPlan(request, idempotent, options.Retry.MaxAttempts, options.Retry.MaxBufferedBodyBytes);
        // One pooled state per request, with its token source: cancelled by the client's abort or the overall deadline.
        var attempt = ProxyAttempt.Rent(options.Timeout, _time, context.RequestAborted);
        context.Features.Set(attempt);
        var body = request.Body;
        if (hasBody)
        {
            // Read through a watch: a failure while reading the client's body is the client's, not the destination's.
            attempt.Body.Attach(request.BodyReader);
            request.Body = attempt.Body;
            if (replayable)
            {
                request.EnableBuffering(bufferThreshold: (int)Math.Min(options.Retry.MaxBufferedBodyBytes, 64 * 1024), bufferLimit: options.Retry.MaxBufferedBodyBytes);
            }
        }

        Cluster.RetryBudget.RecordRequest();
        try
        {
            for (var number = 1; ; number++)
            {
                if (!Cluster.TryAcquire(ref attempt.Tried, out var lease))
                {
                    if (number == 1)
                    {
                        await RespondUnavailableAsync(context).ConfigureAwait(false);
                    }
                    else
                    {
                        context.Response.StatusCode = StatusCodes.Status502BadGateway; // the destination we meant to retry on went away
                    }

                    return;
                }

                var last = number >= options.Retry.MaxAttempts;
                attempt.StartAttempt(mayRetryOnStatus: !last && idempotent && replayable);
                var destination = lease.Destination;
                var started = _time.GetTimestamp();
                var config = destination.HttpVersionPolicy == HttpVersionPolicy.RequestVersionExact ? _exactVersionConfig : _requestConfig;
                var error = await _forwarder.SendAsync(context, destination.AddressPrefix, _client, config, _transformer, attempt.Token).ConfigureAwait(false);
                if (error == ForwarderError.None)
                {
                    destination.Report(lease, attempt.Result, attempt.Detail);
                    _metrics?.RecordAttempt(destination, attempt.Result, _time.GetElapsedTime(started));
                    if (attempt.Suppressed)
                    {
                        Log.RetryingAfterStatus(_logger, Cluster.Id, destination.Id, attempt.Detail, number);
                        _metrics?.RecordRetry(Cluster.Id, "status");
                        ResetForRetry(context);
                        continue;
                    }

                    if (attempt.Refused)
                    {
                        ReportDestinationFailure(destination, attempt.Detail!);
                        context.Response.Clear();
                        context.Response.StatusCode = StatusCodes.Status502BadGateway;
                    }

                    return;
                }

                var clientAborted = context.RequestAborted.IsCancellationRequested;
                var deadlinePassed = attempt.IsCancellationRequested && !clientAborted;
                var kind = clientAborted ? AttemptError.RequestCanceled : deadlinePassed ? AttemptError.DeadlinePassed : (AttemptError)error;
                var attribution = FailureAttribution.Of(kind, attempt.Body.Progress);
                var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
                var detail = Describe(kind, attempt.Body.Error ?? exception);
                destination.Report(lease, attribution.Result, detail);
                _metrics?.RecordAttempt(destination, attribution.Result, _time.GetElapsedTime(started));
                if (attribution.Cause == FailureCause.Destination)
                {
                    ReportDestinationFailure(destination, detail);
                }
                else
                {
                    Log.NotTheDestinations(_logger, Cluster.Id, destination.Id, detail);
                }

                if (clientAborted)
                {
                    return; // the client gave up: nobody to answer, and never the destination's fault
                }

                if (context.Response.HasStarted)
                {
                    // Part of the response already went out: abort, so a truncated body is never passed off as complete.
                    context.Abort();
                    return;
                }

                var safe = (idempotent && replayable) || TransportErrors.NothingSent(exception);
                if (!attribution.MayFailOver || last || !safe || !Cluster.HasUntriedAvailable(attempt.Tried) || !Cluster.RetryBudget.TryRetry())
                {
                    // Kestrel's rejection of the body says which limit the client broke (400, 408, 413).
                    var status = attribution.Cause == FailureCause.Client && attempt.Body.Error is BadHttpRequestException bad ? bad.StatusCode : attribution.Status;
                    if (status != 0)
                    {
                        context.Response.StatusCode = status;
                    }

                    if (attribution.Cause == FailureCause.Client && hasBody)
                    {
                        // The body's framing can no longer be trusted (or is still arriving): close rather than drain it.
                        context.Response.Headers.Connection = "close";
                    }

                    return;
                }

                Log.RetryingAfterError(_logger, Cluster.Id, destination.Id, detail, number);
                _metrics?.RecordRetry(Cluster.Id, "error");
                ResetForRetry(context);
            }
        }
        finally
        {
            if (hasBody)
            {
                request.Body = body;
            }

            context.Features.Set<ProxyAttempt>(null);
            attempt.Return();
        }
    }

    public void Dispose() => _client.Dispose();

    /// <summary>Whether the request has a body, and whether it can be replayed: no body, or a small one of an idempotent request, buffered.</summary>
    private static (bool HasBody, bool Replayable) BodyPlan(HttpRequest request, bool idempotent, int maxAttempts, long maxBuffered)
    {
        var bodyDetection = request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>();
        if (bodyDetection is { CanHaveBody: false } || request.ContentLength == 0)
        {
            return (false, true);
        }

        return (true, idempotent && maxAttempts > 1 && request.ContentLength is { } length && length <= maxBuffered);
    }

    private static void ResetForRetry(HttpContext context)
    {
        context.Response.Clear();
        context.Features.Set<IForwarderErrorFeature>(null);
        if (context.Request.Body.CanSeek)
        {
            context.Request.Body.Position = 0;
        }
    }

    private Task RespondUnavailableAsync(HttpContext context)
    {
        var retryAfter = Cluster.RetryAfter();
        var response = context.Response;
        response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        response.Headers[HeaderNames.RetryAfter] = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        response.ContentType = "text/plain; charset=utf-8";
        Log.NoDestination(_logger, Cluster.Id);
        _metrics?.RecordNoDestination(Cluster.Id);
        return response.WriteAsync($"No destination of cluster '{Cluster.Id}' is available.", context.RequestAborted);
    }

    private void ReportDestinationFailure(Destinations.DestinationState destination, string detail)
    {
        if (_failureLog.TryEnter(destination.Id, detail, out var suppressed))
        {
            Log.DestinationFailed(_logger, Cluster.Id, destination.Id, detail, suppressed);
        }
    }

    private static string Describe(AttemptError error, Exception? exception) => error switch
    {
        AttemptError.RequestTimedOut => "attempt timed out",
        AttemptError.DeadlinePassed => "request deadline passed",
        AttemptError.Request when exception is not null => TransportErrors.Describe(exception),
        _ when exception is not null => error + ": " + TransportErrors.Describe(exception),
        _ => error.ToString(),
    };
}
