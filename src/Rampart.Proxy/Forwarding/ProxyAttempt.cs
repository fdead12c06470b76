using Rampart.CircuitBreaking;
using Rampart.LoadBalancing;

namespace Rampart.Proxy.Forwarding;

/// <summary>One proxied request's failover state, shared between the forwarding loop and the transformer through the request's features.</summary>
internal sealed class ProxyAttempt
{
    /// <summary>Destinations already tried.</summary>
    public TriedDestinations Tried;

    /// <summary>Whether a failure status from this attempt may be kept from the client and retried elsewhere.</summary>
    public bool MayRetryOnStatus { get; set; }

    /// <summary>Set by the transformer when it kept a failure response from the client, to retry.</summary>
    public bool Suppressed { get; set; }

    /// <summary>The classification of this attempt's response.</summary>
    public CallResult Result { get; set; }

    /// <summary>The failure detail of this attempt's response (its status).</summary>
    public string? Detail { get; set; }

    public void StartAttempt(bool mayRetryOnStatus)
    {
        MayRetryOnStatus = mayRetryOnStatus;
        Suppressed = false;
        Result = CallResult.Success;
        Detail = null;
    }
}
