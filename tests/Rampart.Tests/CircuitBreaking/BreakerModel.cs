using Rampart.CircuitBreaking;

namespace Rampart.Tests.CircuitBreaking;

/// <summary>
/// A reference model of the breaker's documented behaviour, written plainly (no packing, no lock-free
/// tricks), to compare the real breaker against step by step.
/// </summary>
internal sealed class BreakerModel(CircuitBreakerOptions o, TimeProvider time)
{
    private readonly Dictionary<long, (long S, long F)> _buckets = [];
    private long _unstamped;
    private int _consecutive;
    private long _openUntil;
    private TimeSpan _break = o.BreakDuration;
    private int _trials;
    private int _trialSuccesses;
    private long _lastTrialAt;

    public CircuitState State { get; private set; } = CircuitState.Closed;

    public long Generation { get; private set; } = 1;

    private long Now => time.GetTimestamp();

    private long BucketTicks => o.SamplingDuration.Ticks / 10;

    public CircuitState Observe()
    {
        if (State == CircuitState.Open && Now >= _openUntil)
        {
            Move(CircuitState.HalfOpen);
        }

        return State;
    }

    public (bool Admitted, ModelPermit Permit) Acquire()
    {
        Observe();
        switch (State)
        {
            case CircuitState.Closed:
                return (true, new ModelPermit(Generation, Now));
            case CircuitState.HalfOpen when _trials < o.HalfOpenPermits:
                _trials++;
                _lastTrialAt = Now;
                return (true, new ModelPermit(Generation, Now));
            case CircuitState.HalfOpen when Now - _lastTrialAt >= o.HalfOpenTrialTimeout.Ticks:
                Move(CircuitState.Open);
                break;
        }

        return (false, default);
    }

    public void Report(ModelPermit permit, CallResult result)
    {
        if (permit.Generation != Generation)
        {
            return;
        }

        if (result == CallResult.Success && o.SlowCallThreshold is { } slow && Now - permit.Start >= slow.Ticks)
        {
            result = CallResult.Failure;
        }

        if (State == CircuitState.HalfOpen)
        {
            _trials--;
            if (result == CallResult.Failure)
            {
                Move(CircuitState.Open);
            }
            else if (result == CallResult.Success && ++_trialSuccesses >= o.SuccessesToClose)
            {
                Move(CircuitState.Closed);
            }

            return;
        }

        if (result == CallResult.Success)
        {
            _consecutive = 0;
            if (o.FailureRatio > 0 && ++_unstamped == 8)
            {
                Stamp();
            }
        }
        else if (result == CallResult.Failure)
        {
            _consecutive++;
            var trip = o.ConsecutiveFailures > 0 && _consecutive >= o.ConsecutiveFailures;
            if (o.FailureRatio > 0)
            {
                Stamp();
                var period = Now / BucketTicks;
                _buckets[period] = (_buckets.GetValueOrDefault(period).S, _buckets.GetValueOrDefault(period).F + 1);
                var inWindow = _buckets.Where(b => b.Key > period - 10 && b.Key <= period).ToList();
                var calls = inWindow.Sum(b => b.Value.S + b.Value.F);
                var failures = inWindow.Sum(b => b.Value.F);
                trip |= calls >= o.MinimumThroughput && (double)failures / calls >= o.FailureRatio;
            }

            if (trip)
            {
                Move(CircuitState.Open);
            }
        }
    }

    public void Isolate()
    {
        if (State != CircuitState.Isolated)
        {
            Move(CircuitState.Isolated);
        }
    }

    public void Reset()
    {
        if (State != CircuitState.Closed)
        {
            Move(CircuitState.Closed);
        }
        else
        {
            ClearCounts();
        }
    }

    private void Stamp()
    {
        var period = Now / BucketTicks;
        _buckets[period] = (_buckets.GetValueOrDefault(period).S + _unstamped, _buckets.GetValueOrDefault(period).F);
        _unstamped = 0;
    }

    private void ClearCounts()
    {
        _consecutive = 0;
        _unstamped = 0;
        _buckets.Clear();
    }

    private void Move(CircuitState to)
    {
        if (to == CircuitState.Open)
        {
            _break = State == CircuitState.HalfOpen
                ? TimeSpan.FromTicks((long)Math.Min(_break.Ticks * o.BreakDurationMultiplier, o.MaxBreakDuration.Ticks))
                : o.BreakDuration;
            _openUntil = Now + _break.Ticks;
        }
        else if (to == CircuitState.Closed)
        {
            _break = o.BreakDuration;
            ClearCounts();
        }

        _trials = 0;
        _trialSuccesses = 0;
        State = to;
        Generation++;
    }
}

internal readonly record struct ModelPermit(long Generation, long Start);
