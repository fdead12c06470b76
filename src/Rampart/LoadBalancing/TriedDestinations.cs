namespace Rampart.LoadBalancing;

/// <summary>The destinations a request has already been sent to, by index.</summary>
/// <remarks>
/// Allocation-free for indexes below 64 (a bit set) and for the first four indexes at or above it (inline slots):
/// a request tries at most <c>MaxAttempts</c> (≤ 10) destinations, so even large clusters rarely need the fallback set.
/// </remarks>
public struct TriedDestinations
{
    private ulong _low;
    private int _slot0;
    private int _slot1;
    private int _slot2;
    private int _slot3;
    private HashSet<int>? _more;

    /// <summary>How many destinations were tried.</summary>
    public int Count { get; private set; }

    /// <summary>Whether the destination at <paramref name="index"/> was tried.</summary>
    public readonly bool Contains(int index)
    {
        if (index < 64)
        {
            return (_low & (1UL << index)) != 0;
        }

        // Slots hold index + 1, so that 0 means empty.
        var stored = index + 1;
        return _slot0 == stored || _slot1 == stored || _slot2 == stored || _slot3 == stored || _more?.Contains(index) == true;
    }

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
        else if (_slot0 == 0)
        {
            _slot0 = index + 1;
        }
        else if (_slot1 == 0)
        {
            _slot1 = index + 1;
        }
        else if (_slot2 == 0)
        {
            _slot2 = index + 1;
        }
        else if (_slot3 == 0)
        {
            _slot3 = index + 1;
        }
        else
        {
            (_more ??= []).Add(index);
        }

        Count++;
    }
}
