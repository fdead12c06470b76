namespace Rampart.CircuitBreaking;

/// <summary>Thrown by <see cref="CircuitBreaker.ExecuteAsync{TState, TResult}"/> when the breaker does not admit the call.</summary>
public sealed class BrokenCircuitException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public BrokenCircuitException()
        : this("The circuit is open; the call was not made.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public BrokenCircuitException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and an inner exception.</summary>
    public BrokenCircuitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a breaker in <paramref name="state"/>.</summary>
    public BrokenCircuitException(CircuitState state, TimeSpan? retryAfter)
        : this(retryAfter is { } after
            ? $"The circuit is {state}; the call was not made. Retry after {after}."
            : $"The circuit is {state}; the call was not made.")
    {
        State = state;
        RetryAfter = retryAfter;
    }

    /// <summary>The breaker's state when it refused the call.</summary>
    public CircuitState State { get; } = CircuitState.Open;

    /// <summary>How long until the breaker may admit a call again; <see langword="null"/> when it cannot tell (isolated, or trials under way).</summary>
    public TimeSpan? RetryAfter { get; }
}
