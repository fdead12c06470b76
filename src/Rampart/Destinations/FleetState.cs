namespace Rampart.Destinations;

/// <summary>What a fleet of replicas (sharing health through Redis) says about a destination, as this replica sees it.</summary>
public enum FleetState
{
    /// <summary>No other replica's verdict stands against it (or there is no fleet): this replica's own signals decide.</summary>
    Trusted = 0,

    /// <summary>Another replica took it out: this one sends it no ordinary traffic and verifies with a probe at once.</summary>
    Suspect = 1,

    /// <summary>Suspected, and this replica's own probe failed too: it holds the destination out as well, until a probe passes.</summary>
    Confirmed = 2,

    /// <summary>A quorum of live replicas holds it out: excluded without further verification, until the quorum is lost.</summary>
    Excluded = 3,
}
