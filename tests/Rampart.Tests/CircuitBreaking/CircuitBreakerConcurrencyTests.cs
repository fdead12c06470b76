using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Rampart.CircuitBreaking;

namespace Rampart.Tests.CircuitBreaking;

/// <summary>Many threads acquiring and reporting while time moves: the invariants hold and the counts add up.</summary>
public sealed class CircuitBreakerConcurrencyTests
{
    private const int Threads = 4;
    private const int CallsPerThread = 50_000;
    private const int Permits = 2;

    [Fact]
    public void ManyThreads_HalfOpenNeverAdmitsMoreThanThePermits_AndCountsAddUp()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero));
        var breaker = new CircuitBreaker(new CircuitBreakerOptions
        {
            ConsecutiveFailures = 3,
            FailureRatio = 0.5,
            MinimumThroughput = 10,
            SamplingDuration = TimeSpan.FromSeconds(1),
            BreakDuration = TimeSpan.FromMilliseconds(100),
            MaxBreakDuration = TimeSpan.FromMilliseconds(400),
            HalfOpenPermits = Permits,
            SuccessesToClose = 2,
            HalfOpenTrialTimeout = TimeSpan.FromMilliseconds(300),
        }, time);
        var transitions = new ConcurrentQueue<CircuitTransition>();
        breaker.StateChanged += transitions.Enqueue;

        var trialsByGeneration = new ConcurrentDictionary<long, int>();
        long admitted = 0, refused = 0, trials = 0, worstTrials = 0, worstInternal = 0;
        using var start = new Barrier(Threads);

        var workers = Enumerable.Range(0, Threads).Select(id => new Thread(() =>
        {
            var random = new Random(id); // seeded: the interleaving varies, the choices do not
            start.SignalAndWait();
            for (var i = 0; i < CallsPerThread; i++)
            {
                if (id == 0 && i % 20 == 0)
                {
                    time.Advance(TimeSpan.FromMilliseconds(10));
                }

                if (!breaker.TryAcquire(out var permit))
                {
                    Interlocked.Increment(ref refused);
                    continue;
                }

                Interlocked.Increment(ref admitted);
                if (permit.IsTrial)
                {
                    Interlocked.Increment(ref trials);
                    var now = trialsByGeneration.AddOrUpdate(permit.Generation, 1, (_, n) => n + 1);
                    InterlockedMax(ref worstTrials, now);
                    InterlockedMax(ref worstInternal, breaker.TrialsInFlight);
                    trialsByGeneration.AddOrUpdate(permit.Generation, 0, (_, n) => n - 1);
                }

                // Some calls are "lost" (never reported): one trial in five, one other call in a thousand.
                // Lost trials exercise the Half-Open trial timeout.
                var roll = random.Next(1000);
                if (roll == 0 || (permit.IsTrial && roll < 200))
                {
                    continue;
                }

                breaker.Report(permit, roll < 350 ? CallResult.Failure : roll < 980 ? CallResult.Success : CallResult.Ignored);
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        Assert.Equal(Threads * CallsPerThread, admitted + refused);
        Assert.True(worstTrials <= Permits, $"{worstTrials} trials in flight at once in one generation");
        Assert.True(worstInternal <= Permits, $"the breaker counted {worstInternal} trials in flight");
        Assert.InRange(breaker.TrialsInFlight, 0, Permits);

        // The transitions, ordered by generation, form one unbroken chain ending in the current state.
        var chain = transitions.OrderBy(t => t.Generation).ToList();
        Assert.True(chain.Count > 20, $"only {chain.Count} transitions: the test did not exercise the state machine");
        Assert.True(trials > 20, $"only {trials} trial calls");
        Assert.Equal(Enumerable.Range(2, chain.Count).Select(g => (long)g), chain.Select(t => t.Generation));
        Assert.Equal(CircuitState.Closed, chain[0].From);
        for (var i = 1; i < chain.Count; i++)
        {
            Assert.Equal(chain[i - 1].To, chain[i].From);
        }

        Assert.Equal(chain[^1].Generation, breaker.Generation);
        Assert.Equal(chain[^1].To, breaker.StoredState);
        Assert.Contains(chain, t => t.Reason.StartsWith("trial call did not report", StringComparison.Ordinal));
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
