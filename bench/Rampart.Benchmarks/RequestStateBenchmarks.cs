using BenchmarkDotNet.Attributes;
using Rampart.Proxy.Forwarding;

namespace Rampart.Benchmarks;

/// <summary>
/// One proxied request's own state besides YARP's: its cancellation (the client's abort or the overall
/// deadline) and its failover state. Before: two token sources (one with a timer) and a state object per
/// request. Now: one pooled state whose token source and timer are reset and reused.
/// </summary>
[MemoryDiagnoser]
public class RequestStateBenchmarks
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly CancellationTokenSource _requestAborted = new();

    [Benchmark(Baseline = true, Description = "two token sources per request (deadline timer + linked)")]
    public bool TwoTokenSources()
    {
        using var deadline = new CancellationTokenSource(Deadline, TimeProvider.System);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_requestAborted.Token, deadline.Token);
        return linked.IsCancellationRequested;
    }

    [Benchmark(Description = "pooled ProxyAttempt (rent + return)")]
    public bool PooledAttempt()
    {
        var attempt = ProxyAttempt.Rent(Deadline, TimeProvider.System, _requestAborted.Token);
        var cancelled = attempt.IsCancellationRequested;
        attempt.Return();
        return cancelled;
    }

    [GlobalCleanup]
    public void Cleanup() => _requestAborted.Dispose();
}
