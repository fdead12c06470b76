namespace Rampart.Health;

/// <summary>What active health probes say of a destination.</summary>
public enum ActiveHealthState
{
    /// <summary>No probe has passed yet and fewer than <see cref="ActiveHealthOptions.UnhealthyThreshold"/> have failed (or active checks are off). Counts as available unless <see cref="ActiveHealthOptions.WaitForFirstProbe"/>.</summary>
    Unknown = 0,

    /// <summary>Probes pass.</summary>
    Healthy = 1,

    /// <summary><see cref="ActiveHealthOptions.UnhealthyThreshold"/> consecutive probes failed; no traffic until <see cref="ActiveHealthOptions.HealthyThreshold"/> pass.</summary>
    Unhealthy = 2,
}
