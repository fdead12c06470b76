namespace Rampart.Failover;

/// <summary>
/// Moves one attempt of a request to a destination and back: the part of the attempt loop that is about bytes.
/// What the result means and whether to try again is decided by <see cref="AttemptLoop"/>, the same for every transport.
/// </summary>
/// <typeparam name="TRequest">What the transport sends: an ASP.NET Core request, an <c>HttpRequestMessage</c>, ...</typeparam>
public interface IAttemptTransport<in TRequest>
{
    /// <summary>
    /// Sends <paramref name="request"/> to <see cref="AttemptLoop.Destination"/>. When the response's head arrives, and before
    /// any of it reaches the caller, the transport calls <see cref="AttemptLoop.OnResponse(int, bool)"/> and follows its verdict.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="attempts">The loop running this attempt: its destination, number and verdicts.</param>
    /// <param name="cancellationToken">Cancelled when the caller goes away or the request's deadline passes.</param>
    /// <returns>How the attempt ended; transport failures are returned, not thrown.</returns>
    ValueTask<AttemptEnd> SendAsync(TRequest request, AttemptLoop attempts, CancellationToken cancellationToken);

    /// <summary>Makes <paramref name="request"/> ready to be sent again: drops what the previous attempt left, rewinds a buffered body.</summary>
    /// <param name="request">The request.</param>
    void PrepareRetry(TRequest request);
}
