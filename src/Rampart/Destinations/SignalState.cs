using Rampart.CircuitBreaking;
using Rampart.Health;

namespace Rampart.Destinations;

/// <summary>One state of one of a destination's signals: what a <see cref="DestinationTransition"/> leaves and enters.</summary>
/// <remarks>Compared as values (<c>t.To == SignalState.Of(CircuitState.Open)</c> or <c>t.To.Is(CircuitState.Open)</c>); rendered by <see cref="ToString"/> as the state's name, as the log and status show it.</remarks>
public readonly struct SignalState : IEquatable<SignalState>
{
    private readonly int _value;

    private SignalState(HealthSignal signal, int value)
    {
        Signal = signal;
        _value = value;
    }

    /// <summary>Which signal this is a state of.</summary>
    public HealthSignal Signal { get; }

    /// <summary>Whether a failure (or an operator's isolation) has taken the destination out in this state: Unhealthy, Ejected, Open or Isolated.</summary>
    public bool IsOut => Signal switch
    {
        HealthSignal.Active => _value == (int)ActiveHealthState.Unhealthy,
        HealthSignal.Passive => _value == (int)PassiveHealthState.Ejected,
        HealthSignal.Circuit => _value is (int)CircuitState.Open or (int)CircuitState.Isolated,
        _ => false,
    };

    /// <summary>An active health state.</summary>
    public static SignalState Of(ActiveHealthState state) => new(HealthSignal.Active, (int)state);

    /// <summary>A passive health state.</summary>
    public static SignalState Of(PassiveHealthState state) => new(HealthSignal.Passive, (int)state);

    /// <summary>A circuit state.</summary>
    public static SignalState Of(CircuitState state) => new(HealthSignal.Circuit, (int)state);

    /// <summary>An operator's state.</summary>
    public static SignalState Of(AdminState state) => new(HealthSignal.Admin, (int)state);

    /// <summary>A fleet state.</summary>
    public static SignalState Of(FleetState state) => new(HealthSignal.Fleet, (int)state);

    /// <summary>Whether this is <paramref name="state"/>.</summary>
    public bool Is(FleetState state) => Equals(Of(state));

    /// <summary>Whether this is <paramref name="state"/>.</summary>
    public bool Is(ActiveHealthState state) => Equals(Of(state));

    /// <summary>Whether this is <paramref name="state"/>.</summary>
    public bool Is(PassiveHealthState state) => Equals(Of(state));

    /// <summary>Whether this is <paramref name="state"/>.</summary>
    public bool Is(CircuitState state) => Equals(Of(state));

    /// <summary>Whether this is <paramref name="state"/>.</summary>
    public bool Is(AdminState state) => Equals(Of(state));

    /// <summary>Whether two states are the same state of the same signal.</summary>
    public static bool operator ==(SignalState left, SignalState right) => left.Equals(right);

    /// <summary>Whether two states differ.</summary>
    public static bool operator !=(SignalState left, SignalState right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(SignalState other) => Signal == other.Signal && _value == other._value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is SignalState other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => ((int)Signal << 8) | _value;

    /// <summary>The state's name: <c>Healthy</c>, <c>Ejected</c>, <c>HalfOpen</c>, <c>Draining</c>, ...</summary>
    public override string ToString() => Signal switch
    {
        HealthSignal.Active => ((ActiveHealthState)_value).ToString(),
        HealthSignal.Passive => ((PassiveHealthState)_value).ToString(),
        HealthSignal.Circuit => ((CircuitState)_value).ToString(),
        HealthSignal.Fleet => ((FleetState)_value).ToString(),
        _ => ((AdminState)_value).ToString(),
    };
}
