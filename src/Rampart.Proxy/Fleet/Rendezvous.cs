using System.Text;

namespace Rampart.Proxy.Fleet;

/// <summary>
/// Rendezvous (highest random weight) hashing: which replicas probe a destination. Every replica computes the same
/// answer from the same live set, and a replica leaving moves only the destinations it probed.
/// </summary>
internal static class Rendezvous
{
    /// <summary>The <paramref name="count"/> replicas of <paramref name="live"/> with the highest weight for <paramref name="key"/> (all of them when fewer).</summary>
    public static IReadOnlyList<string> Pick(IEnumerable<string> live, DestinationKey key, int count) =>
        [.. live.OrderByDescending(r => Weight(r, key)).ThenBy(r => r, StringComparer.Ordinal).Take(count)];

    /// <summary>A stable 64-bit weight (FNV-1a over UTF-8, then a final mix): the same in every process, unlike <see cref="string.GetHashCode()"/>.</summary>
    public static ulong Weight(string replica, DestinationKey key)
    {
        var hash = 14695981039346656037UL;
        foreach (var part in (ReadOnlySpan<string>)[replica, key.Cluster.ToLowerInvariant(), key.Destination.ToLowerInvariant()])
        {
            foreach (var b in Encoding.UTF8.GetBytes(part))
            {
                hash = (hash ^ b) * 1099511628211UL;
            }

            hash = (hash ^ 0x0A) * 1099511628211UL; // a separator: ("ab", "c") differs from ("a", "bc")
        }

        hash ^= hash >> 33; // FNV's low bits mix poorly on short keys: a finalizer (murmur3's) spreads them
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return hash;
    }
}
