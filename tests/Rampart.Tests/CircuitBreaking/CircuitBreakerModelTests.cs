using CsCheck;
using Microsoft.Extensions.Time.Testing;
using Rampart.CircuitBreaking;

namespace Rampart.Tests.CircuitBreaking;

/// <summary>
/// Random sequences of acquire / report / advance time / isolate / reset against <see cref="BreakerModel"/>:
/// the same admission decisions, state and generation after every step.
/// </summary>
public sealed class CircuitBreakerModelTests
{
    private enum OpKind { Acquire, Report, Advance, Isolate, Reset, Observe }

    private sealed record Op(OpKind Kind, int Index, CallResult Result, int Millis);

    private sealed record Settings(
        int ConsecutiveFailures, double FailureRatio, int MinimumThroughput, int SamplingMillis, int? SlowMillis,
        int BreakMillis, double Multiplier, int MaxBreakMillis, int Permits, int SuccessesToClose, int TrialTimeoutMillis)
    {
        public CircuitBreakerOptions ToOptions() => new()
        {
            ConsecutiveFailures = ConsecutiveFailures,
            FailureRatio = FailureRatio,
            MinimumThroughput = MinimumThroughput,
            SamplingDuration = TimeSpan.FromMilliseconds(SamplingMillis),
            SlowCallThreshold = SlowMillis is { } s ? TimeSpan.FromMilliseconds(s) : null,
            BreakDuration = TimeSpan.FromMilliseconds(BreakMillis),
            BreakDurationMultiplier = Multiplier,
            MaxBreakDuration = TimeSpan.FromMilliseconds(MaxBreakMillis),
            HalfOpenPermits = Permits,
            SuccessesToClose = SuccessesToClose,
            HalfOpenTrialTimeout = TimeSpan.FromMilliseconds(TrialTimeoutMillis),
        };
    }

    // Durations in steps of 50 ms, so that time often lands exactly on a boundary (break end, trial timeout, bucket edge).
    private static readonly Gen<Settings> GenSettings =
        from consecutive in Gen.Int[0, 4]
        from ratio in Gen.Int[0, 3].Select(i => new[] { 0.0, 0.3, 0.5, 1.0 }[i])
        from minimum in Gen.Int[1, 8]
        from sampling in Gen.Int[1, 40].Select(n => n * 100)
        from slow in Gen.Int[0, 30].Select(n => n * 50)
        from breakMillis in Gen.Int[1, 60].Select(n => n * 50)
        from multiplier in Gen.Int[0, 3].Select(i => new[] { 1.0, 1.5, 2.0, 3.0 }[i])
        from extra in Gen.Int[0, 120].Select(n => n * 50)
        from permits in Gen.Int[1, 3]
        from toClose in Gen.Int[1, 3]
        from trialTimeout in Gen.Int[1, 100].Select(n => n * 50)
        select new Settings(consecutive == 0 && ratio == 0 ? 1 : consecutive, ratio, minimum, sampling,
            slow < 300 ? null : slow, breakMillis, multiplier, breakMillis + extra, permits, toClose, trialTimeout);

    private static readonly Gen<Op> GenOp = Gen.Frequency(
        (35, Gen.Const(new Op(OpKind.Acquire, 0, CallResult.Success, 0))),
        (35, from index in Gen.Int[0, 100]
             from result in Gen.Frequency((5, Gen.Const(CallResult.Success)), (4, Gen.Const(CallResult.Failure)), (1, Gen.Const(CallResult.Ignored)))
             select new Op(OpKind.Report, index, result, 0)),
        (20, Gen.Int[0, 50].Select(n => new Op(OpKind.Advance, 0, CallResult.Success, n * 50))),
        (5, Gen.Const(new Op(OpKind.Observe, 0, CallResult.Success, 0))),
        (2, Gen.Const(new Op(OpKind.Isolate, 0, CallResult.Success, 0))),
        (3, Gen.Const(new Op(OpKind.Reset, 0, CallResult.Success, 0))));

    [Fact]
    public void RandomSequences_BehaveLikeTheModel() =>
        Gen.Select(GenSettings, GenOp.Array[1, 400]).Sample((settings, ops) => Run(settings, ops), iter: 2000);

    private static void Run(Settings settings, Op[] ops)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero));
        var options = settings.ToOptions();
        var breaker = new CircuitBreaker(options, time);
        var model = new BreakerModel(options, time);
        var outstanding = new List<(CircuitPermit Real, ModelPermit Model)>();

        for (var step = 0; step < ops.Length; step++)
        {
            var op = ops[step];
            switch (op.Kind)
            {
                case OpKind.Acquire:
                    var admitted = breaker.TryAcquire(out var permit);
                    var (modelAdmitted, modelPermit) = model.Acquire();
                    Assert.True(admitted == modelAdmitted, $"step {step}: admitted {admitted}, model {modelAdmitted}");
                    if (admitted)
                    {
                        Assert.Equal(modelPermit.Generation, permit.Generation);
                        outstanding.Add((permit, modelPermit));
                    }

                    break;
                case OpKind.Report when outstanding.Count > 0:
                    var i = op.Index % outstanding.Count;
                    breaker.Report(outstanding[i].Real, op.Result);
                    model.Report(outstanding[i].Model, op.Result);
                    outstanding.RemoveAt(i);
                    break;
                case OpKind.Advance:
                    time.Advance(TimeSpan.FromMilliseconds(op.Millis));
                    break;
                case OpKind.Observe:
                    Assert.Equal(model.Observe(), breaker.State);
                    break;
                case OpKind.Isolate:
                    breaker.Isolate();
                    model.Isolate();
                    break;
                case OpKind.Reset:
                    breaker.Reset();
                    model.Reset();
                    break;
            }

            // Compare without reading State, which may half-open lazily and so is an operation of its own.
            Assert.True(model.Generation == breaker.Generation && model.State == breaker.StoredState,
                $"step {step} ({op}): {breaker.StoredState} at generation {breaker.Generation}, model {model.State} at {model.Generation}");
        }
    }
}
