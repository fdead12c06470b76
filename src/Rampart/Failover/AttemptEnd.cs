namespace Rampart.Failover;

/// <summary>How one attempt ended, as its transport saw it.</summary>
/// <param name="Error">What went wrong; <see cref="AttemptError.None"/> when a response was received (passed on or kept back as the loop said).</param>
/// <param name="Exception">The failure behind <paramref name="Error"/>, for its description.</param>
/// <param name="Body">How far reading the caller's request body got: the evidence for blaming the caller.</param>
/// <param name="NothingSent">Whether no byte of the request reached the destination (the connection was refused): safe to send elsewhere whatever the method.</param>
/// <param name="ResponseStarted">Whether part of the response already reached the caller, so that nothing else can be answered.</param>
/// <param name="CallerStatus">The status a failure of the caller's own making gets, when the transport knows better than the table (a body over the size limit: 413); 0 otherwise.</param>
public readonly record struct AttemptEnd(
    AttemptError Error,
    Exception? Exception = null,
    RequestBodyProgress Body = RequestBodyProgress.None,
    bool NothingSent = false,
    bool ResponseStarted = false,
    int CallerStatus = 0)
{
    /// <summary>A response was received.</summary>
    public static AttemptEnd Received => default;
}
