using System.IO.Pipelines;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>
/// The client's side of one request on the fast path, as <see cref="FastTransport"/> needs it: how the request's head
/// is written to a destination, its body, and where the response's head and body go. Two servers give one: Kestrel's
/// <c>HttpContext</c> (<see cref="ProxyAttempt"/>) and Rampart's own HTTP/1.1 server (<c>Server.ServerExchange</c>).
/// </summary>
internal interface IFastExchange
{
    /// <summary>The watch on the client's body (progress, and a failure that is the client's); null without a body.</summary>
    ClientBodyStream? Body { get; }

    /// <summary>The body as the destination receives it (the watch, or the replay buffer on top of it); null without a body.</summary>
    Stream? RequestBody { get; }

    /// <summary>How the body goes to the destination.</summary>
    RequestWriter.Framing Framing { get; }

    /// <summary>A HEAD request: the response has no body, whatever its head says.</summary>
    bool IsHead { get; }

    /// <summary>
    /// The client's bytes after the head, when it asked for an upgrade (a WebSocket) this exchange carries itself: after
    /// the destination's 101 they go to the destination (<see cref="Http1Tunnel"/>). Null when it asked for none.
    /// </summary>
    PipeReader? UpgradeInput { get; }

    /// <summary>Whether the response's first bytes went to the client (no other answer can be given then).</summary>
    bool ResponseStarted { get; }

    /// <summary>Writes the request's head for a destination: request line, headers but those of the client's hop, forwarded headers, framing.</summary>
    void WriteHead(PipeWriter destination, Http1Pool pool, ForwardedHeaders forwarded);

    /// <summary>Takes the response's status and headers (those of the destination's hop aside) as the client's.</summary>
    void PassOn(ReadOnlySpan<byte> head, ResponseHead parsed);

    /// <summary>Writes bytes of the response's body (the first write starts the response).</summary>
    void WriteBody(ReadOnlySpan<byte> bytes);

    /// <summary>Sends what was written (back-pressure); throws <see cref="Http1Bodies.ClientGoneException"/> when the client is gone.</summary>
    ValueTask FlushBodyAsync();

    /// <summary>The response's body ended as framed.</summary>
    void EndBody();

    /// <summary>Forgets an attempt's response that was kept from the client, and rewinds a replayable body, for the next attempt.</summary>
    void PrepareRetry();
}
