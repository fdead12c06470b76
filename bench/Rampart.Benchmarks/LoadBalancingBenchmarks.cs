using BenchmarkDotNet.Attributes;
using Rampart.CircuitBreaking;
using Rampart.Clusters;
using Rampart.Destinations;
using Rampart.LoadBalancing;

namespace Rampart.Benchmarks;

/// <summary>
/// One pick per policy over 3, 100 and 10,000 destinations, one in ten of them unavailable (isolated);
/// and the whole per-request bookkeeping of the proxy: pick + acquire (breaker) + report (breaker, passive health, counters).
/// </summary>
[MemoryDiagnoser]
public class LoadBalancingBenchmarks
{
    private DestinationState[] _destinations = [];
    private ClusterState _cluster = null!;
    private ILoadBalancingPolicy _policy = null!;

    [Params(3, 100, 10_000)]
    public int Destinations { get; set; }

    [Params("RoundRobin", "PowerOfTwoChoices", "LeastRequests", "Random")]
    public string Policy { get; set; } = "RoundRobin";

    [GlobalSetup]
    public void Setup()
    {
        var options = new ClusterOptions { LoadBalancing = Policy };
        for (var i = 0; i < Destinations; i++)
        {
            options.Destinations[$"d{i}"] = new DestinationOptions { Address = $"http://127.0.0.1:{10000 + (i % 50000)}" };
        }

        _cluster = new ClusterState("bench", options);
        _destinations = [.. _cluster.Destinations];
        for (var i = 1; i < _destinations.Length; i += 10)
        {
            _destinations[i].Breaker.Isolate();
        }

        LoadBalancingPolicies.TryCreate(Policy, out _policy);
    }

    [Benchmark(Description = "pick")]
    public int Pick() => _policy.Pick(_destinations, default);

    [Benchmark(Description = "pick + acquire + report (one request's bookkeeping)")]
    public bool Bookkeeping()
    {
        var tried = default(TriedDestinations);
        if (!_cluster.TryAcquire(ref tried, out var lease))
        {
            return false;
        }

        lease.Destination.Report(lease, CallResult.Success);
        return true;
    }
}

/// <summary>The reads and writes the request path makes on one destination.</summary>
[MemoryDiagnoser]
public class DestinationBenchmarks
{
    private DestinationState _destination = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = new ClusterOptions();
        options.Destinations["a"] = new DestinationOptions { Address = "http://127.0.0.1:9001" };
        _destination = new ClusterState("bench", options).Destinations[0];
    }

    [Benchmark(Description = "IsAvailable")]
    public bool Available() => _destination.IsAvailable;

    [Benchmark(Description = "TryAcquire + Report success (breaker + passive + counters)")]
    public void AcquireReport()
    {
        _destination.TryAcquire(out var lease);
        _destination.Report(lease, CallResult.Success);
    }
}
