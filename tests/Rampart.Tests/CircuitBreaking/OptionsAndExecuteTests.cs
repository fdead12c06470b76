using Rampart.CircuitBreaking;

namespace Rampart.Tests.CircuitBreaking;

public sealed class CircuitBreakerOptionsTests
{
    public static TheoryData<Action<CircuitBreakerOptions>, string> Nonsense => new()
    {
        { o => o.ConsecutiveFailures = -1, "X:ConsecutiveFailures must be 0 (off) or at least 1 (was -1)" },
        { o => o.FailureRatio = 1.5, "X:FailureRatio must be between 0 (off) and 1 (was 1.5)" },
        { o => o.FailureRatio = -0.1, "X:FailureRatio must be between 0 (off) and 1 (was -0.1)" },
        { o => { o.FailureRatio = 0; o.ConsecutiveFailures = 0; }, "X:ConsecutiveFailures or FailureRatio must be set: with both 0 the breaker never trips (was 0)" },
        { o => o.MinimumThroughput = 0, "X:MinimumThroughput must be at least 1 (was 0)" },
        { o => o.SamplingDuration = TimeSpan.FromMilliseconds(1), "X:SamplingDuration must be at least 00:00:00.010 (was 00:00:00.0010000)" },
        { o => o.SlowCallThreshold = TimeSpan.Zero, "X:SlowCallThreshold must be positive when set (was 00:00:00)" },
        { o => o.BreakDuration = TimeSpan.FromSeconds(-1), "X:BreakDuration must be positive (was -00:00:01)" },
        { o => o.BreakDurationMultiplier = 0.5, "X:BreakDurationMultiplier must be at least 1 (was 0.5)" },
        { o => o.MaxBreakDuration = TimeSpan.FromSeconds(1), "X:MaxBreakDuration must be at least BreakDuration (was 00:00:01)" },
        { o => o.HalfOpenPermits = 0, "X:HalfOpenPermits must be at least 1 (was 0)" },
        { o => o.SuccessesToClose = 0, "X:SuccessesToClose must be at least 1 (was 0)" },
        { o => o.HalfOpenTrialTimeout = TimeSpan.Zero, "X:HalfOpenTrialTimeout must be positive (was 00:00:00)" },
    };

    [Theory]
    [MemberData(nameof(Nonsense))]
    public void Validate_Nonsense_NamesTheOption(Action<CircuitBreakerOptions> spoil, string expected)
    {
        var options = new CircuitBreakerOptions();
        spoil(options);

        Assert.Equal([expected], options.Validate("X"));
        var ex = Assert.Throws<ArgumentException>(() => new CircuitBreaker(options));
        Assert.Contains(expected[2..], ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Defaults_AreValid() => Assert.Empty(new CircuitBreakerOptions().Validate());

    [Fact]
    public void Validate_SeveralProblems_ListsEveryOne()
    {
        var options = new CircuitBreakerOptions { HalfOpenPermits = 0, SuccessesToClose = 0, FailureRatio = 2 };
        Assert.Equal(3, options.Validate().Count);
    }

    [Fact]
    public void Constructor_OptionsChangedLater_KeepsTheOriginals()
    {
        var options = new CircuitBreakerOptions { ConsecutiveFailures = 1, FailureRatio = 0 };
        var breaker = new CircuitBreaker(options);
        options.ConsecutiveFailures = 100;

        Assert.True(breaker.TryAcquire(out var permit));
        breaker.Report(permit, CallResult.Failure);
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(1, breaker.Options.ConsecutiveFailures);
    }
}

public sealed class ExecuteAsyncTests
{
    [Fact]
    public async Task ExecuteAsync_Success_ReturnsTheResult()
    {
        var f = new BreakerFixture();
        var result = await f.Breaker.ExecuteAsync(static (x, _) => ValueTask.FromResult(x * 2), 21, CancellationToken.None);
        Assert.Equal(42, result);
    }

    [Fact]
    public async Task ExecuteAsync_Throws_CountsAFailureAndRethrows()
    {
        var f = new BreakerFixture();
        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<TimeoutException>(() =>
                f.Breaker.ExecuteAsync<int>(_ => throw new TimeoutException()).AsTask());
        }

        Assert.Equal(CircuitState.Open, f.Breaker.State);
        Assert.Equal("3 consecutive failures: TimeoutException", f.Transitions[0].Reason);
    }

    [Fact]
    public async Task ExecuteAsync_Open_ThrowsBrokenCircuitWithTheTimeUntilRetry()
    {
        var f = new BreakerFixture();
        f.Fail(3);
        f.Time.Advance(TimeSpan.FromSeconds(2));
        var called = false;

        var ex = await Assert.ThrowsAsync<BrokenCircuitException>(() =>
            f.Breaker.ExecuteAsync(_ => { called = true; return ValueTask.FromResult(1); }).AsTask());

        Assert.False(called);
        Assert.Equal(CircuitState.Open, ex.State);
        Assert.Equal(TimeSpan.FromSeconds(3), ex.RetryAfter);
        Assert.Contains("Retry after 00:00:03", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_CallerCancels_IsNotTheDestinationsFailure()
    {
        var f = new BreakerFixture(o => o.ConsecutiveFailures = 1);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAsync<OperationCanceledException>(() =>
            f.Breaker.ExecuteAsync<int>(ct => { ct.ThrowIfCancellationRequested(); return ValueTask.FromResult(1); }, cts.Token).AsTask());

        Assert.Equal(CircuitState.Closed, f.Breaker.State);
    }

    [Fact]
    public async Task ExecuteAsync_CancelledWithoutTheCallersToken_IsAFailure()
    {
        var f = new BreakerFixture(o => o.ConsecutiveFailures = 1);
        await Assert.ThrowsAsync<TaskCanceledException>(() =>
            f.Breaker.ExecuteAsync<int>(_ => throw new TaskCanceledException("upstream timed out")).AsTask());
        Assert.Equal(CircuitState.Open, f.Breaker.State);
    }
}
