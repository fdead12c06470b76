namespace Rampart.Proxy.Fleet;

/// <summary>A destination as every replica of the fleet names it: its cluster's id and its own.</summary>
internal readonly record struct DestinationKey(string Cluster, string Destination);

/// <summary>
/// What the other replicas say, as this one last heard it: the live set, and which replicas hold which destination out
/// (and why). Only live replicas count. Thread-safe; never on the request path.
/// </summary>
internal sealed class FleetView(string self)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<DestinationKey, Dictionary<string, string>> _heldOut = [];
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

    /// <summary>Records that <paramref name="replica"/> holds <paramref name="key"/> out; returns whether that is news.</summary>
    public bool Hold(string replica, DestinationKey key, string reason)
    {
        lock (_lock)
        {
            if (!_heldOut.TryGetValue(key, out var by))
            {
                _heldOut[key] = by = new(StringComparer.Ordinal);
            }

            var news = !by.ContainsKey(replica);
            by[replica] = reason;
            return news;
        }
    }

    /// <summary>Records that <paramref name="replica"/> no longer holds <paramref name="key"/> out.</summary>
    public void Release(string replica, DestinationKey key)
    {
        lock (_lock)
        {
            if (_heldOut.TryGetValue(key, out var by) && by.Remove(replica) && by.Count == 0)
            {
                _heldOut.Remove(key);
            }
        }
    }

    /// <summary>Forgets every other replica (the fleet is unreachable: local decisions only).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _heldOut.Clear();
            _live = [self];
        }
    }

    /// <summary>The live replicas other than this one that hold <paramref name="key"/> out, with their reasons.</summary>
    public IReadOnlyList<(string Replica, string Reason)> HeldOutBy(DestinationKey key)
    {
        lock (_lock)
        {
            return _heldOut.TryGetValue(key, out var by)
                ? [.. by.Where(b => b.Key != self && _live.Contains(b.Key)).OrderBy(b => b.Key, StringComparer.Ordinal).Select(b => (b.Key, b.Value))]
                : [];
        }
    }

    /// <summary>Every destination some live replica other than this one holds out.</summary>
    public IReadOnlyList<DestinationKey> HeldOut()
    {
        lock (_lock)
        {
            return [.. _heldOut.Where(h => h.Value.Keys.Any(r => r != self && _live.Contains(r))).Select(h => h.Key)];
        }
    }
}
