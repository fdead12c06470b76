using Microsoft.Extensions.Time.Testing;
using Rampart.CircuitBreaking;
using Rampart.Destinations;
using Rampart.Health;

namespace Rampart.Tests.Destinations;

/// <summary>Destinations of one cluster on fake time, recording their transitions.</summary>
internal sealed class DestinationFixture
{
    public DestinationFixture(int destinations = 1, Action<HealthCheckOptions>? health = null, Action<CircuitBreakerOptions>? breaker = null)
    {
        Health.Active.Enabled = true;
        Health.Passive.ConsecutiveFailures = 3;
        Health.Passive.BaseEjectionTime = TimeSpan.FromSeconds(10);
        Health.Passive.MaxEjectionTime = TimeSpan.FromSeconds(25);
        health?.Invoke(Health);
        // A breaker that stays out of the way unless a test wants it.
        Breaker.ConsecutiveFailures = 1000;
        Breaker.FailureRatio = 0;
        breaker?.Invoke(Breaker);
        Budget = new EjectionBudget(Health.Passive.MaxEjectionPercent);
        for (var i = 0; i < destinations; i++)
        {
            var d = new DestinationState("web", ((char)('a' + i)).ToString(), new Uri($"http://127.0.0.1:{9001 + i}"), Health, Breaker, Budget, Time);
            d.Changed += Transitions.Add;
            All.Add(d);
        }
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero));

    public HealthCheckOptions Health { get; } = new();

    public CircuitBreakerOptions Breaker { get; } = new();

    public EjectionBudget Budget { get; }

    public List<DestinationState> All { get; } = [];

    public DestinationState A => All[0];

    public List<DestinationTransition> Transitions { get; } = [];

    public static ProbeResult Pass => new(true, "200", TimeSpan.FromMilliseconds(3));

    public static ProbeResult Fail(string detail = "connection refused") => new(false, detail, TimeSpan.FromMilliseconds(1));

    public void Probe(DestinationState d, ProbeResult result, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            Assert.True(d.ReportProbe(d.Generation, result));
        }
    }

    public void Request(DestinationState d, CallResult result, int times = 1, string? detail = "502")
    {
        for (var i = 0; i < times; i++)
        {
            Assert.True(d.TryAcquire(out var lease), $"{d.Id} refused a request");
            d.Report(lease, result, result == CallResult.Failure ? detail : null);
        }
    }
}
