namespace Rampart.Failover;

/// <summary>How far an attempt got with reading the request body from the client: the evidence for blaming a failure on the client.</summary>
public enum RequestBodyProgress
{
    /// <summary>The request has no body, or nothing of it was read yet.</summary>
    None = 0,

    /// <summary>Part of the body was read; no read from the client is outstanding.</summary>
    Reading = 1,

    /// <summary>The whole body was read.</summary>
    Complete = 2,

    /// <summary>A read from the client was still waiting for data when the attempt was cancelled: the client stalled.</summary>
    Stalled = 3,

    /// <summary>Reading from the client failed: malformed framing, a body over the limit, too slow, or a reset.</summary>
    Failed = 4,
}
