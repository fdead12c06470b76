using System.Globalization;
using Rampart.Statistics;

namespace Rampart.Health;

/// <summary>Passive health decisions for one destination: when real traffic ejects it, for how long, and when it is restored.</summary>
/// <remarks>
/// Counting outcomes while Healthy takes no lock. Everything that changes <see cref="State"/> is a
/// <c>_NeedsLock</c> method: its owner (<see cref="Destinations.DestinationState"/>) holds its lock.
/// </remarks>
internal sealed class PassiveHealthPolicy
{
    private readonly PassiveHealthOptions _options;
    private readonly TimeProvider _time;
    private readonly SlidingWindow? _window;
    private int _consecutiveFailures;
    private int _probationSuccesses;
    private long _restoredAt;
    private int _state;
    private long _ejectedUntil;

    public PassiveHealthPolicy(PassiveHealthOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        if (options.FailureRate > 0)
        {
            _window = new SlidingWindow(options.SamplingDuration, time.TimestampFrequency);
        }
    }

    public PassiveHealthState State => (PassiveHealthState)Volatile.Read(ref _state);

    /// <summary>Ejections so far (forgotten after <see cref="PassiveHealthOptions.MaxEjectionTime"/> healthy).</summary>
    public int Ejections { get; private set; }

    /// <summary>The timestamp at which the current ejection ends.</summary>
    public long EjectedUntil => Volatile.Read(ref _ejectedUntil);

    /// <summary>Counts a success. Returns <see langword="true"/> when on probation: the owner must call <see cref="RecordProbationSuccess_NeedsLock"/>.</summary>
    public bool RecordSuccess()
    {
        if (Volatile.Read(ref _consecutiveFailures) != 0)
        {
            Volatile.Write(ref _consecutiveFailures, 0);
        }

        if (_window is not null && _window.RecordSuccess())
        {
            _window.Stamp(_time.GetTimestamp());
        }

        return State == PassiveHealthState.Probation;
    }

    /// <summary>Counts a failure.</summary>
    /// <returns>Why the destination should be ejected now, or <see langword="null"/>.</returns>
    public string? RecordFailure(string? detail)
    {
        var failures = Interlocked.Increment(ref _consecutiveFailures);
        var suffix = detail is null ? "" : ": " + detail;
        if (State == PassiveHealthState.Probation)
        {
            return "failed on probation" + suffix;
        }

        if (_options.ConsecutiveFailures > 0 && failures >= _options.ConsecutiveFailures)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{failures} consecutive failures{suffix}");
        }

        if (_window is not null)
        {
            var now = _time.GetTimestamp();
            _window.RecordFailure(now);
            var (successes, failed) = _window.Read(now);
            var requests = successes + failed;
            var rate = requests == 0 ? 0 : (double)failed / requests;
            if (requests >= _options.MinimumRequests && rate >= _options.FailureRate)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"failure rate {rate:0.00} ≥ {_options.FailureRate:0.00} over {requests} requests{suffix}");
            }
        }

        return null;
    }

    /// <summary>Ejects; returns how long for.</summary>
    public TimeSpan Eject_NeedsLock()
    {
        var now = _time.GetTimestamp();
        if (State == PassiveHealthState.Healthy && Ejections > 0
            && _time.GetElapsedTime(_restoredAt, now) >= _options.MaxEjectionTime)
        {
            Ejections = 0; // healthy for long enough: start the growth over
        }

        Ejections++;
        var ticks = Math.Min((double)_options.BaseEjectionTime.Ticks * Ejections, _options.MaxEjectionTime.Ticks);
        var duration = TimeSpan.FromTicks((long)ticks);
        Volatile.Write(ref _ejectedUntil, now + TimestampMath.ToTimestampTicks(duration, _time.TimestampFrequency));
        Move(PassiveHealthState.Ejected);
        return duration;
    }

    /// <summary>Whether the current ejection has run its time.</summary>
    public bool EjectionOver() => State == PassiveHealthState.Ejected && _time.GetTimestamp() >= EjectedUntil;

    /// <summary>Ends an ejection that has run its time: the destination is on probation.</summary>
    public void EndEjection_NeedsLock() => Move(PassiveHealthState.Probation);

    /// <summary>Counts a success on probation; returns the reason when that restores the destination.</summary>
    public string? RecordProbationSuccess_NeedsLock()
    {
        if (State != PassiveHealthState.Probation || ++_probationSuccesses < _options.SuccessesToRestore)
        {
            return null;
        }

        _restoredAt = _time.GetTimestamp();
        Move(PassiveHealthState.Healthy);
        return string.Create(CultureInfo.InvariantCulture,
            $"{_options.SuccessesToRestore} consecutive success{(_options.SuccessesToRestore == 1 ? "" : "es")} on probation");
    }

    /// <summary>Back to Healthy with nothing counted (an operator's reset).</summary>
    public void Reset_NeedsLock()
    {
        Ejections = 0;
        Move(PassiveHealthState.Healthy);
    }

    /// <summary>Takes over <paramref name="previous"/>'s state, ejection count and ejection end (a reload); the failure counts start afresh.</summary>
    public void InheritFrom_NeedsLock(PassiveHealthPolicy previous)
    {
        Ejections = previous.Ejections;
        _restoredAt = previous._restoredAt;
        Volatile.Write(ref _ejectedUntil, previous.EjectedUntil);
        Move(previous.State);
    }

    /// <summary>Forgets the consecutive count after an ejection was refused (the cluster's ejection cap).</summary>
    public void ForgetFailures() => Volatile.Write(ref _consecutiveFailures, 0);

    private void Move(PassiveHealthState to)
    {
        _probationSuccesses = 0;
        Volatile.Write(ref _consecutiveFailures, 0);
        _window?.Clear();
        Volatile.Write(ref _state, (int)to);
    }
}
