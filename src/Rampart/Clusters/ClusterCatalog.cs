namespace Rampart.Clusters;

/// <summary>Every cluster of the process, the proxy's and the HttpClient handlers' alike, for status and metrics.</summary>
/// <remarks>Readers get an immutable snapshot; adding swaps it atomically.</remarks>
public sealed class ClusterCatalog
{
    private IReadOnlyList<ClusterState> _clusters = [];

    /// <summary>The clusters registered so far.</summary>
    public IReadOnlyList<ClusterState> Clusters => Volatile.Read(ref _clusters);

    /// <summary>Registers <paramref name="cluster"/> (once).</summary>
    public void Add(ClusterState cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        while (true)
        {
            var current = Volatile.Read(ref _clusters);
            if (current.Contains(cluster))
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _clusters, [.. current, cluster], current) == current)
            {
                return;
            }
        }
    }

    /// <summary>Replaces clusters after a reload: each of <paramref name="removed"/> leaves; each of <paramref name="added"/> takes the place of a removed one with its id, or joins at the end.</summary>
    public void Replace(IReadOnlyCollection<ClusterState> removed, IReadOnlyCollection<ClusterState> added)
    {
        ArgumentNullException.ThrowIfNull(removed);
        ArgumentNullException.ThrowIfNull(added);
        while (true)
        {
            var current = Volatile.Read(ref _clusters);
            var next = new List<ClusterState>(current.Count + added.Count);
            var placed = new HashSet<ClusterState>();
            foreach (var cluster in current)
            {
                if (!removed.Contains(cluster))
                {
                    next.Add(cluster);
                }
                else if (added.FirstOrDefault(a => a.Id == cluster.Id && !placed.Contains(a)) is { } successor)
                {
                    next.Add(successor);
                    placed.Add(successor);
                }
            }

            next.AddRange(added.Where(a => !placed.Contains(a) && !next.Contains(a)));
            if (Interlocked.CompareExchange(ref _clusters, next, current) == current)
            {
                return;
            }
        }
    }
}
