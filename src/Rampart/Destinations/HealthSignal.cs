namespace Rampart.Destinations;

/// <summary>Which part of a destination's state changed.</summary>
public enum HealthSignal
{
    /// <summary>Active health: probes.</summary>
    Active = 0,

    /// <summary>Passive health: ejection on real traffic.</summary>
    Passive = 1,

    /// <summary>The circuit breaker.</summary>
    Circuit = 2,

    /// <summary>An operator's action, such as draining.</summary>
    Admin = 3,

    /// <summary>What the fleet of replicas says (<see cref="Destinations.FleetState"/>).</summary>
    Fleet = 4,
}
