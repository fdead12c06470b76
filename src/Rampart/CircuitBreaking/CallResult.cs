namespace Rampart.CircuitBreaking;

/// <summary>What a call admitted by a <see cref="CircuitBreaker"/> turned out to be.</summary>
public enum CallResult
{
    /// <summary>The call succeeded (it may still count as a failure when slower than the slow-call threshold).</summary>
    Success = 0,

    /// <summary>The call failed because of the destination.</summary>
    Failure = 1,

    /// <summary>
    /// The call says nothing about the destination (for example, the caller cancelled it).
    /// Its permit is released and nothing is counted.
    /// </summary>
    Ignored = 2,
}
