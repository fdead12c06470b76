using System.Diagnostics;
using BenchmarkDotNet.Attributes;

namespace Rampart.Benchmarks;

/// <summary>What one clock read costs here: the reason the breaker avoids a precise timestamp per call.</summary>
public class ClockBenchmarks
{
    private readonly TimeProvider _system = TimeProvider.System;

    [Benchmark(Baseline = true)]
    public long StopwatchTimestamp() => Stopwatch.GetTimestamp();

    [Benchmark]
    public long TimeProviderSystemTimestamp() => _system.GetTimestamp();

    [Benchmark]
    public long TickCount64() => Environment.TickCount64;
}
