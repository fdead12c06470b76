namespace Rampart.Failover;

/// <summary>
/// How an attempt to forward a request went wrong. The values up to <see cref="UpgradeActivityTimeout"/> are
/// YARP's <c>ForwarderError</c> one for one (same names, same numbers); the rest are Rampart's own.
/// </summary>
/// <remarks><see cref="FailureAttribution"/> says, for each, whose fault it is.</remarks>
public enum AttemptError
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>Sending the request failed before a response arrived: connection refused or reset, an invalid response.</summary>
    Request = 1,

    /// <summary>No response headers within the attempt timeout.</summary>
    RequestTimedOut = 2,

    /// <summary>The request was cancelled (the client went away) before a response arrived.</summary>
    RequestCanceled = 3,

    /// <summary>Copying the request body was cancelled (the client went away).</summary>
    RequestBodyCanceled = 4,

    /// <summary>Reading the request body from the client failed: malformed framing, too large, too slow, reset.</summary>
    RequestBodyClient = 5,

    /// <summary>Writing the request body to the destination failed.</summary>
    RequestBodyDestination = 6,

    /// <summary>The destination's response headers could not be passed on.</summary>
    ResponseHeaders = 7,

    /// <summary>Copying the response body was cancelled (the client went away).</summary>
    ResponseBodyCanceled = 8,

    /// <summary>Writing the response body to the client failed (the client went away).</summary>
    ResponseBodyClient = 9,

    /// <summary>Reading the response body from the destination failed: truncated or reset.</summary>
    ResponseBodyDestination = 10,

    /// <summary>An upgraded connection's client-to-destination copy was cancelled.</summary>
    UpgradeRequestCanceled = 11,

    /// <summary>Reading from the client on an upgraded connection failed.</summary>
    UpgradeRequestClient = 12,

    /// <summary>Writing to the destination on an upgraded connection failed.</summary>
    UpgradeRequestDestination = 13,

    /// <summary>An upgraded connection's destination-to-client copy was cancelled.</summary>
    UpgradeResponseCanceled = 14,

    /// <summary>Writing to the client on an upgraded connection failed.</summary>
    UpgradeResponseClient = 15,

    /// <summary>Reading from the destination on an upgraded connection failed.</summary>
    UpgradeResponseDestination = 16,

    /// <summary>No destination was available.</summary>
    NoAvailableDestinations = 17,

    /// <summary>The request could not be expressed as an outgoing request (CONNECT, for example).</summary>
    RequestCreation = 18,

    /// <summary>An upgraded connection was idle for longer than the activity timeout.</summary>
    UpgradeActivityTimeout = 19,

    /// <summary>The request's overall deadline (<c>Timeout</c>) passed during the attempt.</summary>
    DeadlinePassed = 100,

    /// <summary>The destination answered <c>101 Switching Protocols</c> to a request that asked for no upgrade.</summary>
    UnexpectedUpgrade = 101,
}
