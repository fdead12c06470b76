using Rampart.CircuitBreaking;

namespace Rampart.Failover;

/// <summary>What an attempt's failure means: whose fault it is, what the client gets, whether another destination may be tried.</summary>
/// <param name="Cause">Who caused it; only <see cref="FailureCause.Destination"/> counts against the destination.</param>
/// <param name="Status">The status the client gets when nothing of the response has been sent yet (0: nobody is waiting for one).</param>
/// <param name="MayFailOver">Whether the failure itself allows trying another destination (the failover rules must hold too).</param>
public readonly record struct Attribution(FailureCause Cause, int Status, bool MayFailOver)
{
    /// <summary>What the breaker and passive health are told: a failure only when the destination caused it.</summary>
    public CallResult Result => Cause == FailureCause.Destination ? CallResult.Failure : CallResult.Ignored;
}

/// <summary>
/// The one table of failure attribution, shared by every forwarder: a result counts against a destination
/// only when the destination caused it. Anything the client caused (an abort; a request body that is
/// malformed, too large or too slow; a request that cannot be forwarded) is ignored and never failed over,
/// so that no client can take a destination out.
/// </summary>
public static class FailureAttribution
{
    private static readonly Attribution Nobody = new(FailureCause.None, 0, false);

    /// <summary>Attributes an attempt that ended with <paramref name="error"/>, given how far reading the client's body got.</summary>
    /// <param name="error">How the attempt went wrong.</param>
    /// <param name="body">How far reading the request body from the client got when the attempt ended.</param>
    public static Attribution Of(AttemptError error, RequestBodyProgress body)
    {
        if (error == AttemptError.None)
        {
            return Nobody;
        }

        // Reading the client's body failed (framing, size, data rate, reset): whatever the forwarder saw next follows from it.
        if (body == RequestBodyProgress.Failed)
        {
            return Client(400);
        }

        return error switch
        {
            // The destination's doing.
            AttemptError.Request => Destination(502, mayFailOver: true),                 // refused, reset, invalid response
            AttemptError.ResponseHeaders => Destination(502, mayFailOver: true),         // headers that cannot be passed on
            AttemptError.UnexpectedUpgrade => Destination(502, mayFailOver: true),       // 101 to a request that asked for none
            AttemptError.RequestBodyDestination => Destination(502, mayFailOver: false), // it stopped taking the body
            AttemptError.ResponseBodyDestination => Destination(502, mayFailOver: false), // truncated or reset body
            AttemptError.UpgradeRequestDestination or AttemptError.UpgradeResponseDestination => Destination(502, mayFailOver: false),

            // Time ran out while the proxy waited: on the client's body when a read from the client was outstanding (a stall), else on the destination.
            AttemptError.RequestTimedOut => body == RequestBodyProgress.Stalled ? Client(408) : Destination(504, mayFailOver: true),
            AttemptError.DeadlinePassed => body == RequestBodyProgress.Stalled ? Client(408) : Destination(504, mayFailOver: false),

            // The client's doing: it went away, sent a body that could not be read, or a request that cannot be forwarded.
            AttemptError.RequestCanceled or AttemptError.RequestBodyCanceled => Client(400),
            AttemptError.RequestBodyClient => Client(body == RequestBodyProgress.Stalled ? 408 : 400),
            AttemptError.RequestCreation => Client(400),
            AttemptError.ResponseBodyCanceled or AttemptError.ResponseBodyClient => Client(0),
            AttemptError.UpgradeRequestCanceled or AttemptError.UpgradeRequestClient => Client(0),
            AttemptError.UpgradeResponseCanceled or AttemptError.UpgradeResponseClient => Client(0),

            // Nobody's: an upgraded connection that sat idle; the proxy's own answer when nothing is available.
            AttemptError.UpgradeActivityTimeout => Nobody,
            AttemptError.NoAvailableDestinations => new Attribution(FailureCause.Proxy, 503, false),

            // An error this table does not know is not evidence against a destination.
            _ => new Attribution(FailureCause.Proxy, 502, false),
        };
    }

    private static Attribution Destination(int status, bool mayFailOver) => new(FailureCause.Destination, status, mayFailOver);

    private static Attribution Client(int status) => new(FailureCause.Client, status, false);
}
