using System.Globalization;
using Rampart.Statistics;

namespace Rampart.CircuitBreaking;

/// <summary>A circuit breaker for one destination: Closed → Open → Half-Open → Closed, plus Isolated.</summary>
/// <remarks>
/// <para>
/// Two-step use, for a proxy: <see cref="TryAcquire(out CircuitPermit)"/> before the call, then
/// <see cref="Report(in CircuitPermit, CallResult, string?)"/> with the permit when it ends. Library
/// users may prefer <see cref="ExecuteAsync{TState, TResult}"/>.
/// </para>
/// <para>
/// Concurrency: state and generation live in one <see cref="long"/>. In the Closed state, admitting
/// and reporting take no lock and allocate nothing; a success reads the clock only when a slow-call
/// threshold needs it (the failure-ratio window stamps successes in batches). Every state change happens under one lock in <c>MoveTo_NeedsLock</c>,
/// which starts a new generation; a permit from an older generation reports into nothing.
/// <see cref="StateChanged"/> runs after the lock is released, so handlers on different threads may
/// see transitions out of order; <see cref="CircuitTransition.Generation"/> orders them.
/// </para>
/// <para>
/// Time: the breaker owns no timer. Open becomes Half-Open when someone next asks after the break.
/// </para>
/// </remarks>
public sealed partial class CircuitBreaker
{
    private readonly CircuitBreakerOptions _options;
    private readonly TimeProvider _time;
    private readonly SlidingWindow? _window;
    private readonly bool _stampStart;
    private readonly long _slowCallTicks;
    private readonly long _trialTimeoutTicks;
    private readonly Lock _lock = new();

    // Hot fields, read lock-free.
    private long _word = CircuitStateWord.Make(1, CircuitState.Closed);
    private int _consecutiveFailures;
    private long _openUntil;

    // Guarded by _lock (read lock-free only as a hint to reject early).
    private int _trialsInFlight;
    private int _trialSuccesses;
    private long _lastTrialAt;
    private TimeSpan _currentBreak;

    /// <summary>Creates a Closed breaker.</summary>
    /// <param name="options">Trip policies and durations: a snapshot is taken (see <see cref="CircuitBreakerOptions.ToSnapshot(string)"/>), so later changes to them cannot reach the breaker; a snapshot already (a cluster's, shared by its destinations) is neither validated again nor copied.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public CircuitBreaker(CircuitBreakerOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.ToSnapshot();
        _time = timeProvider ?? TimeProvider.System;
        _currentBreak = _options.BreakDuration;
        _trialTimeoutTicks = ToTicks(_options.HalfOpenTrialTimeout);
        if (_options.FailureRatio > 0)
        {
            _window = new SlidingWindow(_options.SamplingDuration, _time.TimestampFrequency);
        }

        if (_options.SlowCallThreshold is { } slow)
        {
            _slowCallTicks = ToTicks(slow);
            _stampStart = true;
        }
    }

    /// <summary>Raised after every state change, outside the breaker's lock, on the thread that caused it.</summary>
    /// <remarks>A handler must not throw: its exception reaches whichever caller caused the change.</remarks>
    public event Action<CircuitTransition>? StateChanged;

    /// <summary>The current state. Reading it may move an Open breaker whose break has elapsed to Half-Open.</summary>
    public CircuitState State
    {
        get
        {
            var word = Volatile.Read(ref _word);
            if (CircuitStateWord.StateOf(word) == CircuitState.Open && _time.GetTimestamp() >= Volatile.Read(ref _openUntil))
            {
                HalfOpenIfDue(word);
                word = Volatile.Read(ref _word);
            }

            return CircuitStateWord.StateOf(word);
        }
    }

    /// <summary>Whether <see cref="TryAcquire(out CircuitPermit)"/> would admit a call now (a hint: a racing caller may take the last trial permit).</summary>
    /// <remarks>Lock-free; reads the clock only while Open.</remarks>
    public bool IsAdmitting
    {
        get
        {
            var word = Volatile.Read(ref _word);
            return CircuitStateWord.StateOf(word) switch
            {
                CircuitState.Closed => true,
                CircuitState.Open => _time.GetTimestamp() >= Volatile.Read(ref _openUntil),
                CircuitState.HalfOpen => Volatile.Read(ref _trialsInFlight) < _options.HalfOpenPermits,
                _ => false,
            };
        }
    }

    /// <summary>The current generation: it starts at 1 and grows by one with every state change.</summary>
    public long Generation => CircuitStateWord.GenerationOf(Volatile.Read(ref _word));

    /// <summary>The options this breaker runs with (a copy; changing it changes nothing).</summary>
    public CircuitBreakerOptions Options => _options;

    /// <summary>The state as stored, without the lazy Open → Half-Open check that <see cref="State"/> makes.</summary>
    internal CircuitState StoredState => CircuitStateWord.StateOf(Volatile.Read(ref _word));

    /// <summary>Half-Open trial calls admitted and not yet reported in the current generation.</summary>
    internal int TrialsInFlight => Volatile.Read(ref _trialsInFlight);

    /// <summary>Consecutive failures counted so far in the Closed state.</summary>
    internal int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    /// <summary>Asks to make a call.</summary>
    /// <param name="permit">When admitted, the permit to hand to <see cref="Report(in CircuitPermit, CallResult, string?)"/>.</param>
    /// <returns><see langword="true"/> when the call may go ahead; it must then be reported exactly once.</returns>
    public bool TryAcquire(out CircuitPermit permit)
    {
        var word = Volatile.Read(ref _word);
        if (CircuitStateWord.StateOf(word) == CircuitState.Closed)
        {
            permit = new CircuitPermit(word, _stampStart ? _time.GetTimestamp() : 0);
            return true;
        }

        return TryAcquireSlow(out permit);
    }

    /// <summary>Reports how an admitted call ended.</summary>
    /// <param name="permit">The permit <see cref="TryAcquire(out CircuitPermit)"/> gave. A permit from an earlier generation is ignored.</param>
    /// <param name="result">What the call turned out to be.</param>
    /// <param name="failureDetail">A short reason kept in a transition this failure causes, such as <c>"502"</c> or <c>"connection refused"</c>.</param>
    public void Report(in CircuitPermit permit, CallResult result, string? failureDetail = null)
    {
        var word = Volatile.Read(ref _word);
        if (result == CallResult.Success && !_stampStart && permit.StateWord == word
            && CircuitStateWord.StateOf(word) == CircuitState.Closed)
        {
            ReportClosedSuccess(); // the hot path: no clock, no lock
            return;
        }

        ReportSlow(permit, result, failureDetail, word);
    }

    private void ReportSlow(in CircuitPermit permit, CallResult result, string? failureDetail, long word)
    {
        if (permit.StateWord != word || result == CallResult.Ignored && CircuitStateWord.StateOf(word) == CircuitState.Closed)
        {
            return; // stale (an older generation), or nothing to count
        }

        // The clock is read only where it is needed: a slow-call threshold, a failure, a trial.
        long now = 0;
        if (_stampStart || result != CallResult.Success || CircuitStateWord.StateOf(word) != CircuitState.Closed)
        {
            now = _time.GetTimestamp();
        }

        if (result == CallResult.Success && _stampStart && now - permit.StartTimestamp >= _slowCallTicks)
        {
            result = CallResult.Failure;
            failureDetail = string.Create(CultureInfo.InvariantCulture, $"slow call {_time.GetElapsedTime(permit.StartTimestamp, now)} ≥ {_options.SlowCallThreshold}");
        }

        if (CircuitStateWord.StateOf(word) == CircuitState.Closed)
        {
            ReportClosed(word, result, failureDetail, now);
        }
        else
        {
            ReportTrial(permit, result, failureDetail, now);
        }
    }

    /// <summary>How long until this breaker may admit a call: zero when it would now; <see langword="null"/> when isolated or its trials are under way.</summary>
    public TimeSpan? GetRetryAfter()
    {
        var word = Volatile.Read(ref _word);
        switch (CircuitStateWord.StateOf(word))
        {
            case CircuitState.Closed:
                return TimeSpan.Zero;
            case CircuitState.Open:
                var now = _time.GetTimestamp();
                var until = Volatile.Read(ref _openUntil);
                return now >= until ? TimeSpan.Zero : _time.GetElapsedTime(now, until);
            case CircuitState.HalfOpen:
                return Volatile.Read(ref _trialsInFlight) < _options.HalfOpenPermits ? TimeSpan.Zero : null;
            default:
                return null;
        }
    }

    /// <summary>Forces the breaker open until <see cref="Reset(string?)"/>, whatever its state.</summary>
    /// <param name="reason">Why, for the transition; "isolated" when <see langword="null"/>.</param>
    public void Isolate(string? reason = null)
    {
        CircuitTransition? transition = null;
        lock (_lock)
        {
            if (CircuitStateWord.StateOf(_word) != CircuitState.Isolated)
            {
                transition = MoveTo_NeedsLock(CircuitState.Isolated, reason ?? "isolated");
            }
        }

        Publish(transition);
    }

    /// <summary>
    /// Ends an Open breaker's break now: it becomes Half-Open and admits trial calls, whatever its break duration says.
    /// For a caller with other evidence that the protected service recovered (passing health probes); a trial that
    /// fails opens it again, for a longer break.
    /// </summary>
    /// <param name="reason">Why, for the transition.</param>
    /// <returns>Whether the breaker was Open and is now Half-Open.</returns>
    public bool EndBreak(string reason)
    {
        CircuitTransition? transition = null;
        lock (_lock)
        {
            if (CircuitStateWord.StateOf(_word) == CircuitState.Open)
            {
                transition = MoveTo_NeedsLock(CircuitState.HalfOpen, reason);
            }
        }

        Publish(transition);
        return transition is not null;
    }

    /// <summary>Closes the breaker and forgets its counts and break growth, whatever its state.</summary>
    /// <param name="reason">Why, for the transition; "reset" when <see langword="null"/>.</param>
    public void Reset(string? reason = null)
    {
        CircuitTransition? transition = null;
        lock (_lock)
        {
            if (CircuitStateWord.StateOf(_word) != CircuitState.Closed)
            {
                transition = MoveTo_NeedsLock(CircuitState.Closed, reason ?? "reset");
            }
            else
            {
                ClearCounts_NeedsLock();
            }
        }

        Publish(transition);
    }

    /// <summary>
    /// Takes over <paramref name="previous"/>'s state when a reload replaces a destination's options: Open stays
    /// Open until the same moment (with the same break growth), Isolated stays Isolated, Half-Open becomes Open
    /// with its break over (the next call is a trial under the new options), Closed keeps its consecutive failures.
    /// Counts in the failure-ratio window start afresh. No transition is raised; the generation continues.
    /// </summary>
    internal void InheritFrom(CircuitBreaker previous)
    {
        long word, openUntil;
        TimeSpan currentBreak;
        int consecutive;
        lock (previous._lock)
        {
            word = previous._word;
            openUntil = previous._openUntil;
            currentBreak = previous._currentBreak;
            consecutive = Volatile.Read(ref previous._consecutiveFailures);
        }

        lock (_lock)
        {
            var state = CircuitStateWord.StateOf(word);
            if (state == CircuitState.HalfOpen)
            {
                state = CircuitState.Open;
                openUntil = _time.GetTimestamp();
            }

            _currentBreak = currentBreak;
            Volatile.Write(ref _openUntil, openUntil);
            Volatile.Write(ref _consecutiveFailures, state == CircuitState.Closed ? consecutive : 0);
            Volatile.Write(ref _word, CircuitStateWord.Next(word, state));
        }
    }

    private long ToTicks(TimeSpan duration) => TimestampMath.ToTimestampTicks(duration, _time.TimestampFrequency);
}
