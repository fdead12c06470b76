using Rampart.Configuration;

namespace Rampart.Health;

/// <summary>Passive health checking: ejecting a destination on what real traffic shows.</summary>
/// <remarks>
/// An ejection lasts <see cref="BaseEjectionTime"/> × the number of ejections so far, capped by
/// <see cref="MaxEjectionTime"/>; then the destination is on probation: it takes traffic, and
/// <see cref="SuccessesToRestore"/> successes in a row restore it while one failure ejects it again.
/// The ejection count is forgotten once a destination has stayed healthy for <see cref="MaxEjectionTime"/>.
/// </remarks>
public sealed class PassiveHealthOptions : FreezableOptions
{
    /// <summary>Whether traffic outcomes may eject a destination. Default <see langword="true"/>.</summary>
    public bool Enabled { get; set => field = Settable(value); } = true;

    /// <summary>
    /// Whether an ejection takes the destination out of rotation. Default <see langword="true"/>; <see langword="false"/> is
    /// shadow mode: ejections are computed, journaled ("not enforced"), counted and shown, but traffic is not blocked.
    /// </summary>
    public bool Enforce { get; set => field = Settable(value); } = true;

    /// <summary>Consecutive failures that eject a destination. Default 5; 0 turns this rule off; otherwise at least 1.</summary>
    public int ConsecutiveFailures { get; set => field = Settable(value); } = 5;

    /// <summary>Failure rate over <see cref="SamplingDuration"/> that ejects (failures ÷ requests ≥ this). Default 0 (off); otherwise greater than 0 and at most 1.</summary>
    public double FailureRate { get; set => field = Settable(value); }

    /// <summary>Requests that must be seen within <see cref="SamplingDuration"/> before <see cref="FailureRate"/> may eject. Default 10; at least 1.</summary>
    public int MinimumRequests { get; set => field = Settable(value); } = 10;

    /// <summary>The sliding window for <see cref="FailureRate"/>. Default 10 s; at least 10 ms.</summary>
    public TimeSpan SamplingDuration { get; set => field = Settable(value); } = TimeSpan.FromSeconds(10);

    /// <summary>The first ejection's length; the n-th lasts n times this. Default 10 s; positive.</summary>
    public TimeSpan BaseEjectionTime { get; set => field = Settable(value); } = TimeSpan.FromSeconds(10);

    /// <summary>The longest ejection. Default 5 minutes; at least <see cref="BaseEjectionTime"/>.</summary>
    public TimeSpan MaxEjectionTime { get; set => field = Settable(value); } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The largest share of a cluster's destinations that passive checking may eject at once, in percent.
    /// One destination may always be ejected. Default 50; 0 to 100.
    /// </summary>
    public int MaxEjectionPercent { get; set => field = Settable(value); } = 50;

    /// <summary>Consecutive successes on probation that restore a destination. Default 3; at least 1.</summary>
    public int SuccessesToRestore { get; set => field = Settable(value); } = 3;

    /// <summary>Every problem with these options, each naming its key under <paramref name="prefix"/>; empty when valid.</summary>
    /// <param name="prefix">The configuration path of these options, such as <c>Rampart:Clusters:web:HealthCheck:Passive</c>.</param>
    public IReadOnlyList<string> Validate(string prefix = "")
    {
        var errors = new OptionsErrors(prefix);
        errors.Check(ConsecutiveFailures >= 0, nameof(ConsecutiveFailures), "must be 0 (off) or at least 1", ConsecutiveFailures);
        errors.Check(FailureRate is >= 0 and <= 1, nameof(FailureRate), "must be between 0 (off) and 1", FailureRate);
        errors.Check(!Enabled || ConsecutiveFailures != 0 || FailureRate != 0, nameof(ConsecutiveFailures), "or FailureRate must be set when passive checking is enabled", ConsecutiveFailures);
        errors.Check(MinimumRequests >= 1, nameof(MinimumRequests), "must be at least 1", MinimumRequests);
        errors.Check(SamplingDuration >= TimeSpan.FromMilliseconds(10), nameof(SamplingDuration), "must be at least 00:00:00.010", SamplingDuration);
        errors.Check(BaseEjectionTime > TimeSpan.Zero, nameof(BaseEjectionTime), "must be positive", BaseEjectionTime);
        errors.Check(MaxEjectionTime >= BaseEjectionTime, nameof(MaxEjectionTime), "must be at least BaseEjectionTime", MaxEjectionTime);
        errors.Check(MaxEjectionPercent is >= 0 and <= 100, nameof(MaxEjectionPercent), "must be between 0 and 100", MaxEjectionPercent);
        errors.Check(SuccessesToRestore >= 1, nameof(SuccessesToRestore), "must be at least 1", SuccessesToRestore);
        errors.AtMostADay((nameof(SamplingDuration), SamplingDuration), (nameof(BaseEjectionTime), BaseEjectionTime), (nameof(MaxEjectionTime), MaxEjectionTime));
        errors.AtMost(ConsecutiveFailures, 1_000_000, nameof(ConsecutiveFailures));
        errors.AtMost(MinimumRequests, 1_000_000, nameof(MinimumRequests));
        errors.AtMost(SuccessesToRestore, 1000, nameof(SuccessesToRestore));
        return errors.Errors;
    }
}
