namespace Rampart.Proxy.Fleet;

/// <summary>A destination as every replica of the fleet names it: its cluster's id and its own.</summary>
internal readonly record struct DestinationKey(string Cluster, string Destination);

/// <summary>
/// What the other replicas say, as this one last heard it: the live set, and which replicas hold which destination out
/// (and why). Only live replicas count. Thread-safe; never on the request path.
/// </summary>
internal sealed class FleetView(string self, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private readonly Dictionary<DestinationKey, Dictionary<string, Verdict>> _verdicts = []; // the latest of each replica, out or not
    private HashSet<string> _live = [self];

    public string Self => self;

    /// <summary>The live replicas, this one included.</summary>
    public IReadOnlyCollection<string> Live
    {
        get
        {
            lock (_lock)
            {
                return [.. _live];
            }
        }
    }

    /// <summary>Sets the live set (this replica is always in it); returns whether it changed.</summary>
    public bool SetLive(IEnumerable<string> replicas)
    {
        var live = new HashSet<string>(replicas, StringComparer.Ordinal) { self };
        lock (_lock)
        {
            if (live.SetEquals(_live))
            {
                return false;
            }

            _live = live;
            return true;
        }
    }

    /// <summary>Records a replica's verdict unless a newer one of that replica is known already; returns whether it was taken.</summary>
    public bool Take(FleetVerdict verdict)
    {
        lock (_lock)
        {
            if (!_verdicts.TryGetValue(verdict.Key, out var by))
            {
                _verdicts[verdict.Key] = by = new(StringComparer.Ordinal);
            }

            if (by.TryGetValue(verdict.Replica, out var known) && known.Order.CompareTo(verdict.Order) >= 0)
            {
                return false; // late: a newer verdict of that replica is known
            }

            by[verdict.Replica] = new Verdict(verdict.Out, verdict.Reason, verdict.Order, _time.GetUtcNow());
            return true;
        }
    }

    /// <summary>Forgets every other replica (the fleet is unreachable: local decisions only).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _verdicts.Clear();
            _live = [self];
        }
    }

    /// <summary>The live replicas other than this one that hold <paramref name="key"/> out, with their reasons.</summary>
    public IReadOnlyList<(string Replica, string Reason)> HeldOutBy(DestinationKey key)
    {
        lock (_lock)
        {
            return _verdicts.TryGetValue(key, out var by)
                ? [.. by.Where(b => b.Value.Out && b.Key != self && _live.Contains(b.Key)).OrderBy(b => b.Key, StringComparer.Ordinal).Select(b => (b.Key, b.Value.Reason))]
                : [];
        }
    }

    /// <summary>Every destination some live replica other than this one holds out.</summary>
    public IReadOnlyList<DestinationKey> HeldOut()
    {
        lock (_lock)
        {
            return [.. _verdicts.Where(v => v.Value.Any(b => b.Value.Out && b.Key != self && _live.Contains(b.Key))).Select(v => v.Key)];
        }
    }

    /// <summary>The live replicas other than this one that said something about <paramref name="key"/> since <paramref name="since"/> (out, back in, or kept after verifying).</summary>
    public IReadOnlyList<string> SpokeOf(DestinationKey key, DateTimeOffset since)
    {
        lock (_lock)
        {
            return _verdicts.TryGetValue(key, out var by)
                ? [.. by.Where(b => b.Key != self && _live.Contains(b.Key) && (b.Value.Out || b.Value.At >= since)).Select(b => b.Key)]
                : [];
        }
    }

    private sealed record Verdict(bool Out, string Reason, (long Incarnation, long Sequence) Order, DateTimeOffset At);
}
