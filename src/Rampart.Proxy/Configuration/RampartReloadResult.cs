namespace Rampart.Proxy.Configuration;

/// <summary>How a configuration reload ended.</summary>
public enum RampartReloadOutcome
{
    /// <summary>The new configuration is running.</summary>
    Applied,

    /// <summary>The configuration said nothing new; nothing changed.</summary>
    Unchanged,

    /// <summary>The new configuration is invalid; the running one stays.</summary>
    Rejected,
}

/// <summary>One configuration reload: when, how it ended, what changed or why it was rejected.</summary>
/// <param name="At">When it happened.</param>
/// <param name="Outcome">Applied, unchanged or rejected.</param>
/// <param name="Changes">What changed, one line each (routes, clusters, destinations, settings that wait for a restart).</param>
/// <param name="Errors">Why it was rejected, each naming its key, as at start.</param>
public sealed record RampartReloadResult(DateTimeOffset At, RampartReloadOutcome Outcome, IReadOnlyList<string> Changes, IReadOnlyList<string> Errors);
