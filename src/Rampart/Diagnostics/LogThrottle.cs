using System.Collections.Concurrent;

namespace Rampart.Diagnostics;

/// <summary>
/// Lets the same log line through at most once per interval, and counts what it held back, so that no
/// stream of requests can multiply a log line. Lock-free; a line's key is built only on the failure path.
/// </summary>
internal sealed class LogThrottle(TimeProvider time, TimeSpan? interval = null)
{
    /// <summary>The default interval between two lines with the same key.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    // Keys are destination and failure kind, a bounded set in practice; past this many they share one entry.
    private const int MaxKeys = 1024;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly long _interval = (long)((interval ?? DefaultInterval).TotalSeconds * time.TimestampFrequency);

    /// <summary>Whether a line for (<paramref name="subject"/>, <paramref name="detail"/>) may be written now; if so, how many like it were held back since the last one.</summary>
    public bool TryEnter(string subject, string detail, out int suppressed)
    {
        var key = subject + "\n" + detail;
        if (!_entries.TryGetValue(key, out var entry))
        {
            entry = _entries.Count < MaxKeys ? _entries.GetOrAdd(key, static _ => new Entry()) : _entries.GetOrAdd("", static _ => new Entry());
        }

        var now = time.GetTimestamp();
        var next = Volatile.Read(ref entry.NextAllowed);
        if (now >= next && Interlocked.CompareExchange(ref entry.NextAllowed, now + _interval, next) == next)
        {
            suppressed = Interlocked.Exchange(ref entry.Suppressed, 0);
            return true;
        }

        Interlocked.Increment(ref entry.Suppressed);
        suppressed = 0;
        return false;
    }

    private sealed class Entry
    {
        public long NextAllowed = long.MinValue;
        public int Suppressed;
    }
}
