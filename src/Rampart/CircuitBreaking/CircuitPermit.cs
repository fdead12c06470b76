namespace Rampart.CircuitBreaking;

/// <summary>
/// Proof that a <see cref="CircuitBreaker"/> admitted a call, handed back to
/// <see cref="CircuitBreaker.Report(in CircuitPermit, CallResult, string?)"/> when the call ends.
/// </summary>
/// <remarks>
/// A permit remembers the breaker's generation at admission. Every state change starts a new
/// generation, so a permit from an earlier one reports into nothing: a slow call admitted while
/// Closed cannot re-open or close a breaker that has moved on since (gobreaker's rule).
/// The default value is a permit of no generation; reporting it does nothing.
/// </remarks>
public readonly struct CircuitPermit : IEquatable<CircuitPermit>
{
    internal CircuitPermit(long stateWord, long startTimestamp)
    {
        StateWord = stateWord;
        StartTimestamp = startTimestamp;
    }

    /// <summary>The breaker's generation and state at admission, packed as the breaker stores them.</summary>
    internal long StateWord { get; }

    /// <summary>The <see cref="TimeProvider"/> timestamp at admission, or 0 when the breaker did not need one.</summary>
    internal long StartTimestamp { get; }

    /// <summary>The breaker's generation when this call was admitted.</summary>
    public long Generation => CircuitStateWord.GenerationOf(StateWord);

    /// <summary>Whether this call was admitted as a Half-Open trial.</summary>
    public bool IsTrial => CircuitStateWord.StateOf(StateWord) == CircuitState.HalfOpen;

    /// <inheritdoc/>
    public bool Equals(CircuitPermit other) => StateWord == other.StateWord && StartTimestamp == other.StartTimestamp;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is CircuitPermit other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(StateWord, StartTimestamp);

    /// <summary>Compares two permits.</summary>
    public static bool operator ==(CircuitPermit left, CircuitPermit right) => left.Equals(right);

    /// <summary>Compares two permits.</summary>
    public static bool operator !=(CircuitPermit left, CircuitPermit right) => !left.Equals(right);
}
