namespace Rampart.CircuitBreaking;

/// <summary>The state of a <see cref="CircuitBreaker"/>.</summary>
public enum CircuitState
{
    /// <summary>Calls flow; outcomes are counted against the trip policies.</summary>
    Closed = 0,

    /// <summary>Calls fail fast until the break duration has elapsed.</summary>
    Open = 1,

    /// <summary>A limited number of trial calls test whether the destination has recovered.</summary>
    HalfOpen = 2,

    /// <summary>Forced open by an operator (<see cref="CircuitBreaker.Isolate(string?)"/>) until <see cref="CircuitBreaker.Reset(string?)"/>.</summary>
    Isolated = 3,
}
