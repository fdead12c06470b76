using System.Collections.Concurrent;
using Rampart.Destinations;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>A cluster's connection pools, one per destination (the fast path's counterpart of the YARP path's <c>HttpMessageInvoker</c>).</summary>
internal sealed class Http1Client(TimeSpan connectTimeout, TimeProvider time) : IDisposable
{
    private readonly ConcurrentDictionary<DestinationEndpoint, Http1Pool> _pools = new(ReferenceEqualityComparer.Instance);

    public TimeSpan ConnectTimeout => connectTimeout;

    public Http1Pool PoolFor(DestinationState destination) =>
        _pools.TryGetValue(destination.Endpoint, out var pool)
            ? pool
            : _pools.GetOrAdd(destination.Endpoint, static (endpoint, client) => new Http1Pool(endpoint, client.ConnectTimeout, client._time), this);

    private readonly TimeProvider _time = time;

    public void Dispose()
    {
        foreach (var pool in _pools.Values)
        {
            _ = pool.DisposeAsync().AsTask();
        }
    }
}
