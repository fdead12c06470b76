using System.Diagnostics;
using System.Runtime.CompilerServices;
using Rampart.Async;
using Rampart.CircuitBreaking;
using Rampart.Clusters;
using Rampart.Destinations;
using Rampart.Diagnostics;
using Rampart.Health;
using Rampart.LoadBalancing;

namespace Rampart.Failover;

/// <summary>
/// Runs one request's attempts: acquires a destination, sends through a transport, classifies the outcome with
/// <see cref="FailureAttribution"/>, reports it with the lease's generation, decides whether and where to try again,
/// and says what the caller should answer. The proxy's forwarders and the HttpClient handler are thin adapters around it.
/// </summary>
/// <remarks>
/// <para>Failover rules: a failed attempt is tried again on a destination not yet tried when the failure allows it (it is the
/// destination's, and the deadline has not passed), nothing of the response has reached the caller, the request is idempotent
/// with a replayable body or nothing of it reached the destination, attempts &lt; <c>Retry:MaxAttempts</c>, and the retry
/// budget allows it. A failure status is kept from the caller and retried under the same rules.</para>
/// <para>Pooled: <see cref="Rent"/> one per request and <see cref="Return"/> it when the request is over, so that the state and its
/// deadline (a <see cref="LazyTimeout"/>: no timer set, no lock taken per request) are not allocated per request. Not thread-safe: one request's attempts run one at a time.</para>
/// </remarks>
#pragma warning disable CA1001 // pooled for the process's lifetime: its deadline is reused or replaced, never leaked per request
public sealed class AttemptLoop
#pragma warning restore CA1001
{
    /// <summary>The reason of the failure given to a 101 answer to a request that asked for no upgrade.</summary>
    internal const string UnexpectedUpgradeDetail = "101 Switching Protocols to a request that asked for no upgrade";

    [ThreadStatic]
    private static KeptObjects<AttemptLoop> t_kept; // an event loop rents and returns a request's state on one thread

    private LazyTimeout _deadline = new(TimeProvider.System);
    private CancellationTokenRegistration _callerAbort;
    private CancellationToken _caller;
    private ClusterState _cluster = null!;
    private TriedDestinations _tried;
    private bool _idempotent;
    private bool _hasBody;
    private bool _replayable;
    private bool _last;
    private CallResult _result;
    private string? _detail;
    private int _status; // the attempt's response status (for its span)
    private ResponseVerdict _verdict;

    private AttemptLoop()
    {
    }

    /// <summary>The cluster the request goes to.</summary>
    public ClusterState Cluster => _cluster;

    /// <summary>The destination of the current attempt.</summary>
    public DestinationState Destination { get; private set; } = null!;

    /// <summary>The current attempt's number, from 1.</summary>
    public int Number { get; private set; }

    /// <summary>Whether the request's body must be buffered by the transport so that it can be sent again.</summary>
    public bool BufferBody => _hasBody && _replayable;

    /// <summary>Cancelled when the caller goes away or the request's deadline (<c>Timeout</c>) passes.</summary>
    public CancellationToken Token => _deadline.Token;

    /// <summary>Rents the state of a new request to <paramref name="cluster"/>; its deadline starts now.</summary>
    /// <param name="cluster">The cluster.</param>
    /// <param name="method">The request's method: only idempotent ones are sent twice.</param>
    /// <param name="hasBody">Whether the request has a body.</param>
    /// <param name="contentLength">The body's declared length, when known: a body is replayable only when it is short enough to buffer.</param>
    /// <param name="callerAborted">Cancelled when the caller goes away.</param>
    public static AttemptLoop Rent(ClusterState cluster, string method, bool hasBody, long? contentLength, CancellationToken callerAborted)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var loop = t_kept.TryTake() ?? new AttemptLoop();
        var retry = cluster.Options.Retry;
        loop._cluster = cluster;
        loop._idempotent = FailoverRules.IsIdempotent(method);
        loop._hasBody = hasBody;
        loop._replayable = !hasBody || FailoverRules.MayReplayBody(loop._idempotent, contentLength, retry);
        loop._caller = callerAborted;
        if (loop._deadline.Time != cluster.Time)
        {
            loop._deadline.Dispose(); // rented for a cluster on another clock (tests)
            loop._deadline = new LazyTimeout(cluster.Time);
        }

        loop._deadline.Start(cluster.Options.Timeout); // a timestamp: the timer is set only when it must fire earlier
        loop._callerAbort = callerAborted.UnsafeRegister(static d => ((LazyTimeout)d!).Cancel(), loop._deadline);
        return loop;
    }

    /// <summary>
    /// Classifies a response's head and says what the transport does with it: pass it on, or keep it from the caller
    /// because the request will be tried elsewhere (a failure status under the failover rules) or must not get it.
    /// </summary>
    /// <param name="status">The response's status code.</param>
    /// <param name="unexpectedUpgrade">Whether it is a 101 to a request that asked for no upgrade: the destination's failure, never passed on.</param>
    public ResponseVerdict OnResponse(int status, bool unexpectedUpgrade = false)
    {
        _status = status;
        (_result, _detail) = unexpectedUpgrade ? (CallResult.Failure, UnexpectedUpgradeDetail) : _cluster.FailurePolicy.ClassifyStatus(status);
        if (_result == CallResult.Failure && !_last && _idempotent && _replayable
            && _cluster.HasUntriedAvailable(_tried) && _cluster.RetryBudget.TryRetry())
        {
            return _verdict = ResponseVerdict.Retry; // a failure that will be retried is never shown to the caller
        }

        if (status == 101 && !unexpectedUpgrade)
        {
            // An upgrade the request asked for (a WebSocket): the connection may live for hours. The request's deadline is
            // over; the attempt's activity timeout bounds each wait of the tunnel, and the caller's leaving still ends it.
            _deadline.TryStop();
        }

        return _verdict = unexpectedUpgrade ? ResponseVerdict.Refuse : ResponseVerdict.PassOn;
    }

    /// <summary>Runs the request's attempts through <paramref name="transport"/> until one answers or no further attempt is allowed.</summary>
    /// <typeparam name="TRequest">What the transport sends.</typeparam>
    /// <param name="transport">The transport.</param>
    /// <param name="request">The request.</param>
    /// <returns>What the caller should answer.</returns>
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    public async ValueTask<FailoverResult> RunAsync<TRequest>(IAttemptTransport<TRequest> transport, TRequest request)
    {
        ArgumentNullException.ThrowIfNull(transport);
        var cluster = _cluster;
        var diagnostics = cluster.Diagnostics;
        var metrics = diagnostics.Metrics;
        var maxAttempts = cluster.Options.Retry.MaxAttempts;
        cluster.RetryBudget.RecordRequest();
        for (var number = 1; ; number++)
        {
            if (!cluster.TryAcquire(ref _tried, out var lease))
            {
                if (number == 1)
                {
                    FailoverLog.NoDestination(diagnostics.FailoverLogger, cluster.Id);
                    metrics?.RecordNoDestination(cluster.Id);
                    return new FailoverResult(FailoverOutcome.NoDestination, 503, FailureCause.Proxy, AttemptError.NoAvailableDestinations, null, null, 0, false);
                }

                // The destination the retry was meant for went away meanwhile.
                return new FailoverResult(FailoverOutcome.NoDestination, 502, FailureCause.Proxy, AttemptError.NoAvailableDestinations, null, Destination, number - 1, false);
            }

            var destination = lease.Destination;
            Destination = destination;
            Number = number;
            _last = number >= maxAttempts;
            (_result, _detail, _verdict, _status) = (CallResult.Success, null, ResponseVerdict.PassOn, 0);
            var started = cluster.Time.GetTimestamp();
            AttemptEnd end;
            var span = StartSpan(destination, number); // null while tracing is off
            try
            {
                end = await transport.SendAsync(request, this, _deadline.Token).ConfigureAwait(false);
            }
            catch
            {
                destination.Report(lease, CallResult.Ignored); // a transport that throws is a bug, not evidence: release the lease
                span?.Dispose();
                throw;
            }

            var elapsed = cluster.Time.GetElapsedTime(started);
            if (end.Error == AttemptError.None)
            {
                destination.Report(lease, _result, _detail);
                metrics?.RecordAttempt(destination, _result, elapsed);
                EndSpan(span, _result, AttemptError.None, _detail, retry: _verdict == ResponseVerdict.Retry ? "status" : null);
                if (_verdict == ResponseVerdict.Retry)
                {
                    FailoverLog.RetryingAfterStatus(diagnostics.FailoverLogger, cluster.Id, destination.Id, _detail, number);
                    metrics?.RecordRetry(cluster.Id, "status");
                    transport.PrepareRetry(request);
                    continue;
                }

                if (_verdict == ResponseVerdict.Refuse)
                {
                    diagnostics.DestinationFailed(cluster, destination, _detail!);
                    return new FailoverResult(FailoverOutcome.Failed, 502, FailureCause.Destination, AttemptError.UnexpectedUpgrade, null, destination, number, false);
                }

                return new FailoverResult(FailoverOutcome.Answered, 0, FailureCause.None, AttemptError.None, null, destination, number, false);
            }

            var callerGone = _caller.IsCancellationRequested;
            var error = end.Error switch
            {
                // The destination failed mid-exchange: its fault, even when the caller (seeing the truncated answer) left since.
                AttemptError.RequestBodyDestination or AttemptError.ResponseBodyDestination
                    or AttemptError.UpgradeRequestDestination or AttemptError.UpgradeResponseDestination => end.Error,
                _ when callerGone => AttemptError.RequestCanceled,
                _ when _deadline.IsCancelled => AttemptError.DeadlinePassed,
                _ => end.Error,
            };
            var attribution = FailureAttribution.Of(error, end.Body);
            var detail = Describe(error, end.Exception);
            destination.Report(lease, attribution.Result, detail);
            metrics?.RecordAttempt(destination, attribution.Result, elapsed);

            if (attribution.Cause == FailureCause.Destination)
            {
                diagnostics.DestinationFailed(cluster, destination, detail);
            }
            else
            {
                FailoverLog.NotTheDestinations(diagnostics.FailoverLogger, cluster.Id, destination.Id, detail);
            }

            var safe = (_idempotent && _replayable) || end.NothingSent;
            var retrying = !callerGone && !end.ResponseStarted && attribution.MayFailOver && !_last && safe
                && cluster.HasUntriedAvailable(_tried) && cluster.RetryBudget.TryRetry();
            EndSpan(span, attribution.Result, error, detail, retry: retrying ? "error" : null);
            if (callerGone)
            {
                return new FailoverResult(FailoverOutcome.CallerGone, 0, attribution.Cause, error, end.Exception, destination, number, false);
            }

            if (end.ResponseStarted)
            {
                return new FailoverResult(FailoverOutcome.ResponseBroken, 0, attribution.Cause, error, end.Exception, destination, number, false);
            }

            if (!retrying)
            {
                var byCaller = attribution.Cause == FailureCause.Client;
                var status = byCaller && end.CallerStatus != 0 ? end.CallerStatus : attribution.Status;
                // After the caller's own body failed, its framing can no longer be trusted (or it is still arriving): close, do not drain.
                return new FailoverResult(FailoverOutcome.Failed, status, attribution.Cause, error, end.Exception, destination, number, byCaller && _hasBody);
            }

            FailoverLog.RetryingAfterError(diagnostics.FailoverLogger, cluster.Id, destination.Id, detail, number);
            metrics?.RecordRetry(cluster.Id, "error");
            transport.PrepareRetry(request);
        }
    }

    // The attempt's client span (a child of the request's), or null while tracing is off.
    private Activity? StartSpan(DestinationState destination, int number)
    {
        if (!RampartTracing.Source.HasListeners())
        {
            return null;
        }

        var span = RampartTracing.Source.StartActivity("rampart.attempt", ActivityKind.Client);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("rampart.cluster", _cluster.Id);
            span.SetTag("rampart.destination", destination.Id);
            span.SetTag("rampart.attempt", number);
            span.SetTag("server.address", destination.Endpoint.Address.Authority);
        }

        return span;
    }

    // What the attempt came to: its result, whether it counted against the destination, why it is retried, its status.
    private void EndSpan(Activity? span, CallResult result, AttemptError error, string? detail, string? retry)
    {
        if (span is null)
        {
            return;
        }

        if (span.IsAllDataRequested)
        {
            span.SetTag("rampart.outcome", result switch { CallResult.Success => "success", CallResult.Failure => "failure", _ => "ignored" });
            span.SetTag("rampart.counted_against_destination", result == CallResult.Failure);
            if (_status != 0)
            {
                span.SetTag("http.response.status_code", _status);
            }

            if (error != AttemptError.None)
            {
                span.SetTag("error.type", error.ToString());
            }

            if (retry is not null)
            {
                span.SetTag("rampart.retry_reason", retry + (detail is null ? "" : ": " + detail));
            }

            if (result == CallResult.Failure)
            {
                span.SetStatus(ActivityStatusCode.Error, detail);
            }
        }

        span.Dispose();
    }

    /// <summary>Gives the state back once nothing uses it any more (the transport has returned).</summary>
    public void Return()
    {
        _callerAbort.Dispose(); // waits for a running callback: none comes after
        if (!_deadline.TryStop())
        {
            _deadline.Dispose(); // cancelled (an abort or the deadline): a fresh one for the next request
            _deadline = new LazyTimeout(_deadline.Time);
        }

        _tried = default;
        _cluster = null!;
        Destination = null!;
        _caller = default;
        (_result, _detail, _verdict, Number) = (CallResult.Success, null, ResponseVerdict.PassOn, 0);
        t_kept.Return(this);
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
