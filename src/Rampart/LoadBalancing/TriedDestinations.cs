namespace Rampart.LoadBalancing;

/// <summary>The destinations a request has already been sent to, by index: a bit set, allocation-free up to 64 destinations.</summary>
public struct TriedDestinations
{
    private ulong _low;
    private HashSet<int>? _high;

    /// <summary>How many destinations were tried.</summary>
    public int Count { get; private set; }

    /// <summary>Whether the destination at <paramref name="index"/> was tried.</summary>
    public readonly bool Contains(int index) =>
        index < 64 ? (_low & (1UL << index)) != 0 : _high?.Contains(index) == true;

    /// <summary>Marks the destination at <paramref name="index"/> as tried.</summary>
    public void Add(int index)
    {
        if (Contains(index))
        {
            return;
        }

        if (index < 64)
        {
            _low |= 1UL << index;
        }
        else
        {
            (_high ??= []).Add(index);
        }

        Count++;
    }
}
