namespace Rampart.Configuration;

/// <summary>
/// Options that are filled in (bound from configuration or set in code), validated once, and then frozen into an
/// immutable snapshot that running state holds: a cluster, a destination, a breaker, a proxy. A frozen snapshot can be
/// shared without copies, and two snapshots compare by value (a reload keeps what did not change).
/// </summary>
public abstract class FreezableOptions
{
    /// <summary>Whether these options are a validated, immutable snapshot: setting any property throws.</summary>
    public bool IsFrozen { get; private set; }

    /// <summary>What every setter passes its value through: the value, while the options are not frozen.</summary>
    /// <exception cref="InvalidOperationException">The options are frozen.</exception>
    protected T Settable<T>(T value) => IsFrozen
        ? throw new InvalidOperationException($"These {GetType().Name} are a validated snapshot held by running state and cannot change: change the configuration (or a copy) and reload.")
        : value;

    internal void MarkFrozen() => IsFrozen = true;
}
