using BenchmarkDotNet.Attributes;
using Polly;
using Polly.CircuitBreaker;
using Rampart.CircuitBreaking;

namespace Rampart.Benchmarks;

/// <summary>
/// The Closed-state cost of a breaker per call: Rampart's two-step API and ExecuteAsync against
/// Polly.Core's circuit-breaker pipeline, all around the same completed callback, in the same run.
/// </summary>
[MemoryDiagnoser]
public class CircuitBreakerBenchmarks
{
    private static readonly Func<CancellationToken, ValueTask<int>> Callback = static _ => ValueTask.FromResult(42);

    private CircuitBreaker _rampart = null!;
    private CircuitBreaker _rampartConsecutiveOnly = null!;
    private ResiliencePipeline _polly = null!;

    [GlobalSetup]
    public void Setup()
    {
        // Both trip policies on (consecutive failures and a failure ratio over a sliding window): the proxy's default.
        _rampart = new CircuitBreaker(new CircuitBreakerOptions());
        _rampartConsecutiveOnly = new CircuitBreaker(new CircuitBreakerOptions { FailureRatio = 0 });
        _polly = new ResiliencePipelineBuilder()
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 20,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = TimeSpan.FromSeconds(5),
            })
            .Build();
    }

    [Benchmark(Baseline = true, Description = "Polly.Core 8.9.1 pipeline ExecuteAsync")]
    public ValueTask<int> Polly() => _polly.ExecuteAsync(static _ => ValueTask.FromResult(42), CancellationToken.None);

    [Benchmark(Description = "Rampart TryAcquire+Report")]
    public bool AcquireReport()
    {
        var admitted = _rampart.TryAcquire(out var permit);
        _rampart.Report(permit, CallResult.Success);
        return admitted;
    }

    [Benchmark(Description = "Rampart TryAcquire+Report (consecutive only)")]
    public bool AcquireReportConsecutiveOnly()
    {
        var admitted = _rampartConsecutiveOnly.TryAcquire(out var permit);
        _rampartConsecutiveOnly.Report(permit, CallResult.Success);
        return admitted;
    }

    [Benchmark(Description = "Rampart ExecuteAsync")]
    public ValueTask<int> Execute() => _rampart.ExecuteAsync(Callback, CancellationToken.None);
}
