namespace Rampart.Health;

/// <summary>How many of a cluster's destinations passive health checking may eject at once (<see cref="PassiveHealthOptions.MaxEjectionPercent"/>).</summary>
/// <remarks>Shared by a cluster's destinations; lock-free.</remarks>
public sealed class EjectionBudget
{
    private readonly int _maxPercent;
    private int _destinations;
    private int _ejected;

    /// <summary>Creates a budget allowing <paramref name="maxPercent"/> percent of the destinations (at least one, unless 0).</summary>
    /// <param name="maxPercent">0 to 100.</param>
    public EjectionBudget(int maxPercent)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxPercent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxPercent, 100);
        _maxPercent = maxPercent;
    }

    /// <summary>Destinations currently ejected.</summary>
    public int Ejected => Volatile.Read(ref _ejected);

    /// <summary>Destinations in the cluster.</summary>
    public int Destinations => Volatile.Read(ref _destinations);

    /// <summary>How many may be ejected at once now.</summary>
    public int Max => _maxPercent == 0 ? 0 : Math.Max(1, Destinations * _maxPercent / 100);

    internal void AddDestination() => Interlocked.Increment(ref _destinations);

    internal void RemoveDestination() => Interlocked.Decrement(ref _destinations);

    internal bool TryTake()
    {
        var ejected = Volatile.Read(ref _ejected);
        while (ejected < Max)
        {
            var seen = Interlocked.CompareExchange(ref _ejected, ejected + 1, ejected);
            if (seen == ejected)
            {
                return true;
            }

            ejected = seen;
        }

        return false;
    }

    /// <summary>Counts an ejection that happened before a reload moved the destination here, even over the cap.</summary>
    internal void TakeInherited() => Interlocked.Increment(ref _ejected);

    internal void Release() => Interlocked.Decrement(ref _ejected);
}
