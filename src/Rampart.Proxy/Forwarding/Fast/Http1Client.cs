using System.Collections.Concurrent;
using Rampart.Destinations;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>A cluster's connection pools, one per destination (the fast path's counterpart of the YARP path's <c>HttpMessageInvoker</c>).</summary>
internal sealed class Http1Client(TimeSpan connectTimeout, TimeProvider time, int maxConnectionsPerDestination = 0) : IDisposable
{
    private readonly ConcurrentDictionary<DestinationEndpoint, Http1Pool> _pools = new(ReferenceEqualityComparer.Instance);

    public Http1Pool PoolFor(DestinationState destination) =>
        _pools.TryGetValue(destination.Endpoint, out var pool) ? pool : _pools.GetOrAdd(destination.Endpoint, endpoint => new Http1Pool(endpoint, connectTimeout, time, maxConnectionsPerDestination));

    /// <summary>
    /// Closes the pools of every destination but <paramref name="destinations"/> (they left the cluster): a request still
    /// on one finishes, and its connection is closed instead of kept.
    /// </summary>
    public void Retain(IReadOnlyList<DestinationState> destinations)
    {
        var staying = destinations.Select(d => d.Endpoint).ToHashSet(ReferenceEqualityComparer.Instance);
        foreach (var (endpoint, pool) in _pools)
        {
            if (!staying.Contains(endpoint) && _pools.TryRemove(endpoint, out _))
            {
                pool.Dispose();
            }
        }
    }

    public void Dispose()
    {
        foreach (var pool in _pools.Values)
        {
            pool.Dispose();
        }
    }
}
