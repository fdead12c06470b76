namespace Rampart.Health;

/// <summary>What passive (traffic-driven) health checking says of a destination.</summary>
public enum PassiveHealthState
{
    /// <summary>Traffic flows; outcomes are counted.</summary>
    Healthy = 0,

    /// <summary>Taken out of rotation for a while after failing real requests.</summary>
    Ejected = 1,

    /// <summary>Back in rotation after an ejection; one failure ejects it again, a run of successes restores it.</summary>
    Probation = 2,
}
