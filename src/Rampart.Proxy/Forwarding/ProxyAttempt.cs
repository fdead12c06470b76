using Rampart.Failover;

namespace Rampart.Proxy.Forwarding;

/// <summary>
/// One proxied request's state on the YARP path, shared between the forwarder and the transformer through the
/// request's features: the core's attempt loop and the watch on the client's body. Pooled, like the loop: a request
/// rents one and returns it when it is over (the body's watch is the request's own, never pooled).
/// </summary>
internal sealed class ProxyAttempt
{
    private static readonly ObjectPool<ProxyAttempt> Pool = new(Environment.ProcessorCount * 64);

    /// <summary>The request's attempts.</summary>
    public AttemptLoop Loop { get; private set; } = null!;

    /// <summary>The request body as the forwarder reads it, watched for client-caused failures; null for a request without a body.</summary>
    public ClientBodyStream? Body { get; set; }

    public static ProxyAttempt Rent(AttemptLoop loop)
    {
        var attempt = Pool.TryTake() ?? new ProxyAttempt();
        attempt.Loop = loop;
        return attempt;
    }

    /// <summary>Gives the state (and its loop) back once nothing uses it any more (the forwarder has returned).</summary>
    public void Return()
    {
        Loop.Return();
        Loop = null!;
        Body?.Detach();
        Body = null;
        Pool.Return(this);
    }
}
