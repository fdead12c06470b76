using Rampart.Destinations;

namespace Rampart.Failover;

/// <summary>What a request's attempts came to, and what the caller should answer.</summary>
/// <param name="Outcome">How the attempts ended.</param>
/// <param name="Status">The status to answer with (0: none, nobody is waiting or the response is already out).</param>
/// <param name="Cause">Who caused the last attempt's failure.</param>
/// <param name="Error">How the last attempt failed, with <see cref="AttemptError.DeadlinePassed"/> and <see cref="AttemptError.RequestCanceled"/> told apart.</param>
/// <param name="Exception">The failure behind <paramref name="Error"/>.</param>
/// <param name="Destination">The destination of the last attempt; <see langword="null"/> when none was acquired.</param>
/// <param name="Attempts">How many attempts were made.</param>
/// <param name="CloseConnection">Whether the caller's connection should be closed rather than reused: its request body failed or is still arriving.</param>
public readonly record struct FailoverResult(
    FailoverOutcome Outcome,
    int Status,
    FailureCause Cause,
    AttemptError Error,
    Exception? Exception,
    DestinationState? Destination,
    int Attempts,
    bool CloseConnection);
