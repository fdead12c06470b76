namespace Rampart.Failover;

/// <summary>Who caused an attempt's failure.</summary>
public enum FailureCause
{
    /// <summary>Nothing failed, or nobody did (an idle upgraded connection timing out).</summary>
    None = 0,

    /// <summary>The destination: it counts against the destination's breaker and passive health, and may fail over.</summary>
    Destination = 1,

    /// <summary>The client: never counted against a destination, never failed over.</summary>
    Client = 2,

    /// <summary>The proxy's own decision (no destination available): never counted against a destination.</summary>
    Proxy = 3,
}
