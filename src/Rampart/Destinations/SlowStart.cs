namespace Rampart.Destinations;

/// <summary>
/// A destination's ramp after it comes back (or is added): its share of picks grows linearly from 0 to full over the
/// cluster's <c>SlowStartWindow</c>, instead of jumping to full.
/// </summary>
/// <remarks>Lock-free; reads the clock only while ramping.</remarks>
public sealed class SlowStart
{
    private readonly TimeProvider _time;
    private readonly long _windowTicks;
    private long _since;   // timestamp the current ramp began; 0 when not ramping
    private long _credit;  // thousandths of a pick earned while ramping

    internal SlowStart(TimeSpan window, TimeProvider time)
    {
        _time = time;
        _windowTicks = TimestampMath.ToTimestampTicks(window, time.TimestampFrequency);
    }

    /// <summary>The share of a full pick the destination takes now: below 1 while it ramps up.</summary>
    public double Weight
    {
        get
        {
            var since = Volatile.Read(ref _since);
            if (since == 0)
            {
                return 1;
            }

            var elapsed = _time.GetTimestamp() - since;
            if (elapsed >= _windowTicks)
            {
                Volatile.Write(ref _since, 0); // the ramp is over: back to the clock-free path
                return 1;
            }

            return (double)elapsed / _windowTicks;
        }
    }

    /// <summary>Whether a pick that landed here should be taken: always, unless ramping, when picks are taken in proportion to the weight.</summary>
    /// <remarks>Deterministic: each landing earns the weight in credit and a pick costs one credit.</remarks>
    public bool TakeTurn()
    {
        if (Volatile.Read(ref _since) == 0)
        {
            return true;
        }

        var credit = Interlocked.Add(ref _credit, (long)(Weight * 1000));
        if (credit < 1000)
        {
            return false;
        }

        Interlocked.Add(ref _credit, -1000);
        return true;
    }

    /// <summary>Starts a ramp now (a no-op when slow start is off).</summary>
    internal void Start()
    {
        if (_windowTicks > 0)
        {
            Volatile.Write(ref _credit, 0);
            Volatile.Write(ref _since, Math.Max(1, _time.GetTimestamp()));
        }
    }

    /// <summary>Continues the ramp of the destination this one replaces (a reload).</summary>
    internal void InheritFrom(SlowStart previous)
    {
        Volatile.Write(ref _credit, Volatile.Read(ref previous._credit));
        Volatile.Write(ref _since, _windowTicks > 0 ? Volatile.Read(ref previous._since) : 0);
    }
}
