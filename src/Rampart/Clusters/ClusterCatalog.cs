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
}
