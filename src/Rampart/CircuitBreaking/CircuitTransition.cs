namespace Rampart.CircuitBreaking;

/// <summary>One state change of a <see cref="CircuitBreaker"/>, with why it happened.</summary>
/// <param name="From">The state left.</param>
/// <param name="To">The state entered.</param>
/// <param name="Reason">Why, for people: "5 consecutive failures: 502", "failure ratio 0.62 ≥ 0.50 over 40 calls".</param>
/// <param name="At">When, by the breaker's <see cref="TimeProvider"/>.</param>
/// <param name="Generation">The generation that starts with this change.</param>
/// <param name="BreakDuration">How long the breaker stays open, when <paramref name="To"/> is <see cref="CircuitState.Open"/>; otherwise zero.</param>
public readonly record struct CircuitTransition(
    CircuitState From,
    CircuitState To,
    string Reason,
    DateTimeOffset At,
    long Generation,
    TimeSpan BreakDuration);
