using System.Collections.Concurrent;
using Rampart.Destinations;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>A cluster's connection pools, one per destination (the fast path's counterpart of the YARP path's <c>HttpMessageInvoker</c>).</summary>
internal sealed class Http1Client(TimeSpan connectTimeout, TimeProvider time) : IDisposable
{
    private readonly ConcurrentDictionary<DestinationEndpoint, Http1Pool> _pools = new(ReferenceEqualityComparer.Instance);

    public Http1Pool PoolFor(DestinationState destination) =>
        _pools.TryGetValue(destination.Endpoint, out var pool) ? pool : _pools.GetOrAdd(destination.Endpoint, endpoint => new Http1Pool(endpoint, connectTimeout, time));

    public void Dispose()
    {
        foreach (var pool in _pools.Values)
        {
            pool.Dispose();
        }
    }
}
