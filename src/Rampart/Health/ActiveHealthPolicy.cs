using System.Globalization;

namespace Rampart.Health;

/// <summary>Rise/fall hysteresis over probe results: the pure decision of active health checking.</summary>
/// <remarks>
/// A new destination is Unknown until its first probe passes (Healthy at once) or
/// <see cref="ActiveHealthOptions.UnhealthyThreshold"/> probes in a row fail (Unhealthy): one slow first
/// probe, while the proxy itself is still warming up, does not take a destination out. After that,
/// <see cref="ActiveHealthOptions.UnhealthyThreshold"/> consecutive failures make a Healthy destination
/// Unhealthy and <see cref="ActiveHealthOptions.HealthyThreshold"/> consecutive passes make an Unhealthy one
/// Healthy. Not thread-safe: its owner serialises calls.
/// </remarks>
internal sealed class ActiveHealthPolicy(ActiveHealthOptions options)
{
    public ActiveHealthState State { get; private set; }

    public int ConsecutivePasses { get; private set; }

    public int ConsecutiveFailures { get; private set; }

    public ProbeResult? LastResult { get; private set; }

    public DateTimeOffset? LastProbeAt { get; private set; }

    /// <summary>Unknown, Unhealthy, or Healthy with a failure just seen: probe at the shorter interval.</summary>
    public bool IsUnhealthyOrChanging =>
        State != ActiveHealthState.Healthy || ConsecutiveFailures > 0;

    /// <summary>Counts one probe result.</summary>
    /// <returns>The new state and why, when the state changed; otherwise <see langword="null"/>.</returns>
    public (ActiveHealthState To, string Reason)? Record(ProbeResult result, DateTimeOffset at)
    {
        LastResult = result;
        LastProbeAt = at;
        if (result.Passed)
        {
            ConsecutivePasses++;
            ConsecutiveFailures = 0;
        }
        else
        {
            ConsecutiveFailures++;
            ConsecutivePasses = 0;
        }

        switch (State)
        {
            case ActiveHealthState.Unknown when result.Passed:
                return Move(ActiveHealthState.Healthy, "first probe passed: " + result.Detail);
            case ActiveHealthState.Unknown or ActiveHealthState.Healthy when ConsecutiveFailures >= options.UnhealthyThreshold:
                return Move(ActiveHealthState.Unhealthy, Runs(ConsecutiveFailures, "failure") + ": " + result.Detail);
            case ActiveHealthState.Unhealthy when ConsecutivePasses >= options.HealthyThreshold:
                return Move(ActiveHealthState.Healthy, Runs(ConsecutivePasses, "pass") + ": " + result.Detail);
            default:
                return null;
        }
    }

    /// <summary>Forgets everything: back to Unknown (for a reset by an operator).</summary>
    public void Reset()
    {
        State = ActiveHealthState.Unknown;
        ConsecutivePasses = 0;
        ConsecutiveFailures = 0;
    }

    /// <summary>Takes over <paramref name="previous"/>'s state, runs and latest result (a reload).</summary>
    public void InheritFrom(ActiveHealthPolicy previous)
    {
        State = previous.State;
        ConsecutivePasses = previous.ConsecutivePasses;
        ConsecutiveFailures = previous.ConsecutiveFailures;
        LastResult = previous.LastResult;
        LastProbeAt = previous.LastProbeAt;
    }

    private (ActiveHealthState, string) Move(ActiveHealthState to, string reason)
    {
        State = to;
        return (to, reason);
    }

    private static string Runs(int count, string what) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{count} consecutive probe {(count == 1 ? what : what == "pass" ? "passes" : what + "s")}");
}
