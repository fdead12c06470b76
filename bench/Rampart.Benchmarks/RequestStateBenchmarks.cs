using BenchmarkDotNet.Attributes;
using Rampart.Clusters;
using Rampart.Failover;
using Rampart.LoadBalancing;

namespace Rampart.Benchmarks;

/// <summary>
/// A request's own state and decisions besides the bytes: its cancellation (the client's abort or the overall deadline),
/// acquiring a destination, classifying the response and reporting it. Baseline: the same calls made inline, as the
/// forwarders made them before the attempt loop moved to the core; the loop (pooled, with its deadline) should cost
/// about the same and allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class RequestStateBenchmarks
{
    private readonly CancellationTokenSource _requestAborted = new();
    private readonly Answer200 _transport = new();
    private readonly CancellationTokenSource _deadline = new();
    private ClusterState _cluster = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = new ClusterOptions();
        for (var i = 0; i < 3; i++)
        {
            options.Destinations[$"d{i}"] = new DestinationOptions { Address = $"http://127.0.0.1:{9000 + i}" };
        }

        _cluster = new ClusterState("bench", options);
    }

    [Benchmark(Baseline = true, Description = "before (proxy): a reused deadline source + acquire + classify + report, inline")]
    public bool InlinePooled()
    {
        _deadline.CancelAfter(_cluster.Options.Timeout);
        using var abort = _requestAborted.Token.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _deadline);
        _cluster.RetryBudget.RecordRequest();
        var tried = default(TriedDestinations);
        _cluster.TryAcquire(ref tried, out var lease);
        var (result, detail) = _cluster.FailurePolicy.ClassifyStatus(200);
        lease.Destination.Report(lease, result, detail);
        var cancelled = _deadline.IsCancellationRequested;
        _deadline.TryReset();
        return cancelled;
    }

    [Benchmark(Description = "before (handler): two token sources + acquire + classify + report, inline")]
    public bool Inline()
    {
        using var deadline = new CancellationTokenSource(_cluster.Options.Timeout, TimeProvider.System);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_requestAborted.Token, deadline.Token);
        _cluster.RetryBudget.RecordRequest();
        var tried = default(TriedDestinations);
        _cluster.TryAcquire(ref tried, out var lease);
        var (result, detail) = _cluster.FailurePolicy.ClassifyStatus(200);
        lease.Destination.Report(lease, result, detail);
        return linked.IsCancellationRequested;
    }

    [Benchmark(Description = "AttemptLoop: rent + run (one attempt, 200) + return")]
    public bool Loop()
    {
        var loop = AttemptLoop.Rent(_cluster, "GET", hasBody: false, contentLength: null, _requestAborted.Token);
        var run = loop.RunAsync(_transport, 0);
        var answered = run.IsCompletedSuccessfully && run.Result.Outcome == FailoverOutcome.Answered; // the transport completes at once
        loop.Return();
        return answered;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _requestAborted.Dispose();
        _deadline.Dispose();
    }

    private sealed class Answer200 : IAttemptTransport<int>
    {
        public ValueTask<AttemptEnd> SendAsync(int request, AttemptLoop attempts, CancellationToken cancellationToken)
        {
            attempts.OnResponse(200);
            return ValueTask.FromResult(AttemptEnd.Received);
        }

        public void PrepareRetry(int request)
        {
        }
    }
}
