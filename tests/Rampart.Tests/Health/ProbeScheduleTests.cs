using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Rampart.CircuitBreaking;
using Rampart.Destinations;
using Rampart.Health;

namespace Rampart.Tests.Health;

/// <summary>
/// The prober's schedule on fake time: when each probe is sent, as the destination's health changes. The probes go to an
/// in-memory handler that answers at once, so a whole run is driven by advancing the clock (the loopback tests of the
/// proxy cover real sockets).
/// </summary>
public sealed class ProbeScheduleTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero));
    private readonly DateTimeOffset _start;

    public ProbeScheduleTests() => _start = _time.GetUtcNow();

    [Fact]
    public async Task Healthy_ProbedAtOnce_ThenEveryInterval()
    {
        var probes = await RunAsync(TimeSpan.FromSeconds(16), _ => HttpStatusCode.OK);
        Assert.Equal([0, 5, 10, 15], probes);
    }

    [Fact]
    public async Task Failing_ProbedAtTheUnhealthyInterval_FirstPassOnTheWayBackFollowedAtOnce()
    {
        // Answers 500 from 5 s to 8 s: out after two failures (5, 6), probed every second while out, back after two passes (8, 8).
        var probes = await RunAsync(TimeSpan.FromSeconds(14), at => at is >= 5 and < 8 ? HttpStatusCode.InternalServerError : HttpStatusCode.OK);
        Assert.Equal([0, 5, 6, 7, 8, 8, 13], probes);
    }

    [Fact]
    public async Task TakenOutByTraffic_ProbesEndTheBreakAndTheEjection_AtOnce()
    {
        DestinationState? destination = null;
        var probes = await RunAsync(TimeSpan.FromSeconds(6.5), _ => HttpStatusCode.OK, during: (d, at) =>
        {
            destination = d;
            if (at == 1)
            {
                for (var i = 0; i < 5; i++)
                {
                    Assert.True(d.TryAcquire(out var lease));
                    d.Report(lease, CallResult.Failure, "500"); // opens the breaker and ejects: out for 30 s and 10 s
                }

                Assert.False(d.IsAvailable);
            }
            else if (at == 5.05)
            {
                // Two passes since it went out (5, 5): the break ends (trial calls) and the ejection goes to probation.
                Assert.Equal(CircuitState.HalfOpen, d.Breaker.State);
                Assert.Equal(PassiveHealthState.Probation, d.PassiveHealth);
                Assert.True(d.IsAvailable);
            }
        });

        Assert.Equal([0, 5, 5, 6], probes); // then the unhealthy interval while it is on trial
        Assert.NotNull(destination);
    }

    [Fact]
    public async Task Jitter_SpreadsProbesWithinTheInterval_AndASeededRandomRepeatsIt()
    {
        var first = await RunAsync(TimeSpan.FromSeconds(60), _ => HttpStatusCode.OK, jitter: 0.2, seed: 7);
        var again = await new ProbeScheduleTests().RunAsync(TimeSpan.FromSeconds(60), _ => HttpStatusCode.OK, jitter: 0.2, seed: 7);
        Assert.Equal(first, again);
        var gaps = first.Zip(first.Skip(1), (a, b) => b - a).ToList();
        Assert.All(gaps, gap => Assert.InRange(gap, 4.0 - 1e-9, 5.0));
        Assert.True(gaps.Distinct().Count() > 1, "the jitter varies the intervals");
    }

    /// <summary>
    /// Probes one destination for <paramref name="span"/> of fake time, advanced in 50 ms steps (<paramref name="during"/> runs
    /// after each, with the time in seconds); returns every probe's time in seconds from the start.
    /// </summary>
    private Task<List<double>> RunAsync(TimeSpan span, Func<double, HttpStatusCode> answer, double jitter = 0, int seed = 1, Action<DestinationState, double>? during = null) =>
        // Off the test framework's synchronization context: there, continuations of what the clock completes are never run
        // inline but queued, and the prober's loop would fall behind the advancing clock.
        Task.Run(() => RunOffContextAsync(span, answer, jitter, seed, during));

    private async Task<List<double>> RunOffContextAsync(TimeSpan span, Func<double, HttpStatusCode> answer, double jitter, int seed, Action<DestinationState, double>? during)
    {
        var destination = new DestinationState(
            "web", "a", new Uri("http://127.0.0.1:9001"),
            new HealthCheckOptions
            {
                Active = new ActiveHealthOptions
                {
                    Enabled = true,
                    Interval = TimeSpan.FromSeconds(5),
                    UnhealthyInterval = TimeSpan.FromSeconds(1),
                    Jitter = jitter,
                    HealthyThreshold = 2,
                    UnhealthyThreshold = 2,
                },
            },
            new CircuitBreakerOptions(),
            new EjectionBudget(100),
            _time);
        var handler = new ScriptedHandler(() => Math.Round((_time.GetUtcNow() - _start).TotalSeconds, 3), answer);
        using var prober = new ActiveHealthProber(new HttpMessageInvoker(handler), _time, NullLogger<ActiveHealthProber>.Instance, new Random(seed));
        prober.Track(destination);
        await prober.StartAsync(CancellationToken.None);
        for (var step = TimeSpan.Zero; step < span; step += TimeSpan.FromMilliseconds(50))
        {
            _time.Advance(TimeSpan.FromMilliseconds(50));
            during?.Invoke(destination, Math.Round((_time.GetUtcNow() - _start).TotalSeconds, 3));
        }

        await prober.StopAsync(CancellationToken.None);
        return handler.Probes;
    }

    /// <summary>Answers every probe at once with the status the script gives for the time; records when each came.</summary>
    private sealed class ScriptedHandler(Func<double> now, Func<double, HttpStatusCode> answer) : HttpMessageHandler
    {
        public List<double> Probes { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var at = now();
            Probes.Add(at);
            return Task.FromResult(new HttpResponseMessage(answer(at)) { Content = new StringContent("ok") });
        }
    }
}
