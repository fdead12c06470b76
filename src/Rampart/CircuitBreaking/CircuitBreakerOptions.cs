using Rampart.Configuration;

namespace Rampart.CircuitBreaking;

/// <summary>When a <see cref="CircuitBreaker"/> trips, how long it stays open and how it tests recovery.</summary>
/// <remarks>
/// Two trip policies, each on unless set to 0, either of which opens the breaker:
/// <see cref="ConsecutiveFailures"/>, and <see cref="FailureRatio"/> over <see cref="SamplingDuration"/>
/// once <see cref="MinimumThroughput"/> calls were seen. <see cref="SlowCallThreshold"/> makes a slow
/// success count as a failure for both.
/// </remarks>
public sealed class CircuitBreakerOptions : FreezableOptions
{
    /// <summary>
    /// Whether a destination's open breaker blocks its traffic. Default <see langword="true"/>; <see langword="false"/> is shadow
    /// mode for a <see cref="Destinations.DestinationState"/>: the breaker runs, its transitions are journaled ("not enforced"),
    /// counted and shown, but requests still go through. A <see cref="CircuitBreaker"/> used on its own always enforces.
    /// </summary>
    public bool Enforce { get; set => field = Settable(value); } = true;

    /// <summary>Consecutive failures that open the breaker. Default 5; 0 turns this policy off; otherwise at least 1.</summary>
    public int ConsecutiveFailures { get; set => field = Settable(value); } = 5;

    /// <summary>
    /// Failure ratio over <see cref="SamplingDuration"/> that opens the breaker (failures ÷ calls ≥ this).
    /// Default 0.5; 0 turns this policy off; otherwise greater than 0 and at most 1.
    /// </summary>
    public double FailureRatio { get; set => field = Settable(value); } = 0.5;

    /// <summary>Calls that must be seen within <see cref="SamplingDuration"/> before <see cref="FailureRatio"/> may trip. Default 20; at least 1.</summary>
    public int MinimumThroughput { get; set => field = Settable(value); } = 20;

    /// <summary>
    /// The sliding window over which <see cref="FailureRatio"/> is computed. Default 10 s; at least 10 ms.
    /// The window is kept in 10 buckets, so it slides in steps of a tenth of this.
    /// </summary>
    public TimeSpan SamplingDuration { get; set => field = Settable(value); } = TimeSpan.FromSeconds(10);

    /// <summary>A successful call that took at least this long counts as a failure. Default <see langword="null"/> (off); positive when set.</summary>
    public TimeSpan? SlowCallThreshold { get; set => field = Settable(value); }

    /// <summary>How long the breaker stays open after it first trips. Default 5 s; positive.</summary>
    public TimeSpan BreakDuration { get; set => field = Settable(value); } = TimeSpan.FromSeconds(5);

    /// <summary>Each re-trip from Half-Open multiplies the break by this, up to <see cref="MaxBreakDuration"/>; closing resets it. Default 2; at least 1.</summary>
    public double BreakDurationMultiplier { get; set => field = Settable(value); } = 2.0;

    /// <summary>The longest break. Default 1 minute; at least <see cref="BreakDuration"/>.</summary>
    public TimeSpan MaxBreakDuration { get; set => field = Settable(value); } = TimeSpan.FromMinutes(1);

    /// <summary>Trial calls admitted at once while Half-Open. Default 1; at least 1.</summary>
    public int HalfOpenPermits { get; set => field = Settable(value); } = 1;

    /// <summary>Successful trial calls that close the breaker. Default 1; at least 1.</summary>
    public int SuccessesToClose { get; set => field = Settable(value); } = 1;

    /// <summary>
    /// A Half-Open breaker whose permits are all taken and whose latest trial has not reported for
    /// this long re-opens, so a lost trial cannot wedge it. Default 30 s; positive.
    /// </summary>
    public TimeSpan HalfOpenTrialTimeout { get; set => field = Settable(value); } = TimeSpan.FromSeconds(30);

    /// <summary>Validates these options once and returns them as an immutable snapshot (themselves, when they are one already).</summary>
    /// <param name="prefix">The configuration path of this section, that every problem is reported under.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem, each naming its key.</exception>
    public CircuitBreakerOptions ToSnapshot(string prefix = "") => OptionsTree.Validated(this, o => o.Validate(prefix), "circuit breaker options");

    /// <summary>Every problem with these options, each naming its key under <paramref name="prefix"/>; empty when valid.</summary>
    /// <param name="prefix">The configuration path of these options, such as <c>Rampart:Clusters:web:CircuitBreaker</c>; may be empty.</param>
    public IReadOnlyList<string> Validate(string prefix = "")
    {
        var errors = new OptionsErrors(prefix);
        errors.Check(ConsecutiveFailures >= 0, nameof(ConsecutiveFailures), "must be 0 (off) or at least 1", ConsecutiveFailures);
        errors.Check(FailureRatio is >= 0 and <= 1, nameof(FailureRatio), "must be between 0 (off) and 1", FailureRatio);
        errors.Check(ConsecutiveFailures != 0 || FailureRatio != 0, nameof(ConsecutiveFailures), "or FailureRatio must be set: with both 0 the breaker never trips", ConsecutiveFailures);
        errors.Check(MinimumThroughput >= 1, nameof(MinimumThroughput), "must be at least 1", MinimumThroughput);
        errors.Check(SamplingDuration >= TimeSpan.FromMilliseconds(10), nameof(SamplingDuration), "must be at least 00:00:00.010", SamplingDuration);
        errors.Check(SlowCallThreshold is null || SlowCallThreshold > TimeSpan.Zero, nameof(SlowCallThreshold), "must be positive when set", SlowCallThreshold);
        errors.Check(BreakDuration > TimeSpan.Zero, nameof(BreakDuration), "must be positive", BreakDuration);
        errors.Check(BreakDurationMultiplier >= 1 && double.IsFinite(BreakDurationMultiplier), nameof(BreakDurationMultiplier), "must be at least 1", BreakDurationMultiplier);
        errors.Check(MaxBreakDuration >= BreakDuration, nameof(MaxBreakDuration), "must be at least BreakDuration", MaxBreakDuration);
        errors.Check(HalfOpenPermits >= 1, nameof(HalfOpenPermits), "must be at least 1", HalfOpenPermits);
        errors.Check(SuccessesToClose >= 1, nameof(SuccessesToClose), "must be at least 1", SuccessesToClose);
        errors.Check(HalfOpenTrialTimeout > TimeSpan.Zero, nameof(HalfOpenTrialTimeout), "must be positive", HalfOpenTrialTimeout);
        errors.AtMostADay((nameof(SamplingDuration), SamplingDuration), (nameof(SlowCallThreshold), SlowCallThreshold), (nameof(BreakDuration), BreakDuration),
            (nameof(MaxBreakDuration), MaxBreakDuration), (nameof(HalfOpenTrialTimeout), HalfOpenTrialTimeout));
        errors.AtMost(ConsecutiveFailures, 1_000_000, nameof(ConsecutiveFailures));
        errors.AtMost(MinimumThroughput, 1_000_000, nameof(MinimumThroughput));
        errors.AtMost(HalfOpenPermits, 1000, nameof(HalfOpenPermits));
        errors.AtMost(SuccessesToClose, 1000, nameof(SuccessesToClose));
        errors.Check(BreakDurationMultiplier <= 100, nameof(BreakDurationMultiplier), "must be at most 100", BreakDurationMultiplier);
        return errors.Errors;
    }
}
