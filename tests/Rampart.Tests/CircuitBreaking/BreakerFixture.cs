using Microsoft.Extensions.Time.Testing;
using Rampart.CircuitBreaking;

namespace Rampart.Tests.CircuitBreaking;

/// <summary>A breaker on fake time that records its transitions.</summary>
internal sealed class BreakerFixture
{
    public BreakerFixture(Action<CircuitBreakerOptions>? configure = null)
    {
        var options = new CircuitBreakerOptions
        {
            ConsecutiveFailures = 3,
            FailureRatio = 0,
            BreakDuration = TimeSpan.FromSeconds(5),
            BreakDurationMultiplier = 2,
            MaxBreakDuration = TimeSpan.FromSeconds(30),
        };
        configure?.Invoke(options);
        Breaker = new CircuitBreaker(options, Time);
        Breaker.StateChanged += Transitions.Add;
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero));

    public CircuitBreaker Breaker { get; }

    public List<CircuitTransition> Transitions { get; } = [];

    public CircuitPermit Acquire()
    {
        Assert.True(Breaker.TryAcquire(out var permit), $"expected the {Breaker.State} breaker to admit a call");
        return permit;
    }

    public void Call(CallResult result, string? detail = null)
    {
        var permit = Acquire();
        Breaker.Report(permit, result, detail);
    }

    public void Fail(int times)
    {
        for (var i = 0; i < times; i++)
        {
            Call(CallResult.Failure, "502");
        }
    }

    public void Succeed(int times)
    {
        for (var i = 0; i < times; i++)
        {
            Call(CallResult.Success);
        }
    }

    /// <summary>Trips a breaker with ConsecutiveFailures = 3 and lets the break elapse, so the next acquire half-opens it.</summary>
    public void TripAndWaitOutBreak()
    {
        Fail(3);
        Assert.Equal(CircuitState.Open, Breaker.State);
        Time.Advance(TimeSpan.FromSeconds(5));
    }
}
