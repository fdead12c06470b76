namespace Rampart.Failover;

/// <summary>How a request's attempts ended, for the caller to answer.</summary>
public enum FailoverOutcome
{
    /// <summary>A destination's response was passed on (on the last attempt, possibly a failure status).</summary>
    Answered = 0,

    /// <summary>No destination was available: <see cref="FailoverResult.Status"/> is 503 on the first attempt (answer with a <c>Retry-After</c>), 502 after a failed one.</summary>
    NoDestination = 1,

    /// <summary>The last attempt failed and was not retried: answer <see cref="FailoverResult.Status"/> when it is not 0.</summary>
    Failed = 2,

    /// <summary>The caller went away: nobody is waiting for an answer.</summary>
    CallerGone = 3,

    /// <summary>The attempt failed after part of its response reached the caller: abort the connection, so that a truncated body is never passed off as complete.</summary>
    ResponseBroken = 4,
}
