using Microsoft.Extensions.ObjectPool;
using Rampart.CircuitBreaking;
using Rampart.LoadBalancing;

namespace Rampart.Proxy.Forwarding;

/// <summary>
/// One proxied request's failover state and cancellation, shared between the forwarding loop and the
/// transformer through the request's features. Pooled: a request rents one and returns it when it is
/// over, so that the state, its token source and that source's timer are not allocated per request.
/// </summary>
#pragma warning disable CA1001 // pooled for the process's lifetime: its token source is reset or replaced, never leaked per request
internal sealed class ProxyAttempt
#pragma warning restore CA1001
{
    private static readonly ObjectPool<ProxyAttempt> Pool =
        new DefaultObjectPool<ProxyAttempt>(new DefaultPooledObjectPolicy<ProxyAttempt>(), Environment.ProcessorCount * 64);

    private CancellationTokenSource _cancel = new();
    private CancellationTokenRegistration _clientAbort;
    private ITimer? _timer;

    /// <summary>Destinations already tried.</summary>
    public TriedDestinations Tried;

    /// <summary>Cancelled when the client aborts or the request's overall deadline passes.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>Whether the client aborted or the deadline passed.</summary>
    public bool IsCancellationRequested => _cancel.IsCancellationRequested;

    /// <summary>Whether a failure status from this attempt may be kept from the client and retried elsewhere.</summary>
    public bool MayRetryOnStatus { get; set; }

    /// <summary>Set by the transformer when it kept a failure response from the client, to retry.</summary>
    public bool Suppressed { get; set; }

    /// <summary>The classification of this attempt's response.</summary>
    public CallResult Result { get; set; }

    /// <summary>The failure detail of this attempt's response (its status).</summary>
    public string? Detail { get; set; }

    /// <summary>Set by the transformer when it refused the response (a 101 the request did not ask for): the client must not get it.</summary>
    public bool Refused { get; set; }

    /// <summary>The request body as the forwarder reads it, watched for client-caused failures (requests with a body only).</summary>
    public ClientBodyStream Body { get; } = new();

    /// <summary>Rents the state of a new request, cancelled by <paramref name="requestAborted"/> or after <paramref name="timeout"/>.</summary>
    public static ProxyAttempt Rent(TimeSpan timeout, TimeProvider time, CancellationToken requestAborted)
    {
        var attempt = Pool.Get();
        attempt._clientAbort = requestAborted.UnsafeRegister(Cancel, attempt._cancel);
        if (time == TimeProvider.System)
        {
            attempt._cancel.CancelAfter(timeout); // the source's own timer, reset and kept by TryReset
        }
        else
        {
            attempt._timer = time.CreateTimer(Cancel, attempt._cancel, timeout, Timeout.InfiniteTimeSpan);
        }

        return attempt;
    }

    private static void Cancel(object? source) => ((CancellationTokenSource)source!).Cancel();

    public void StartAttempt(bool mayRetryOnStatus)
    {
        MayRetryOnStatus = mayRetryOnStatus;
        Suppressed = false;
        Refused = false;
        Result = CallResult.Success;
        Detail = null;
        Body.Restart();
    }

    /// <summary>Gives the state back once nothing uses it any more (the forwarder has returned).</summary>
    public void Return()
    {
        _clientAbort.Dispose(); // waits for a running callback: none comes after
        _timer?.Dispose();
        _timer = null;
        if (!_cancel.TryReset())
        {
            _cancel.Dispose(); // cancelled (an abort or the deadline): a fresh one for the next request
            _cancel = new CancellationTokenSource();
        }

        Tried = default;
        Body.Detach();
        StartAttempt(mayRetryOnStatus: false);
        Pool.Return(this);
    }
}
