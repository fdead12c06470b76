using System.Globalization;

namespace Rampart.CircuitBreaking;

// The state machine: every state change is made by MoveTo_NeedsLock, and published after the lock.
public sealed partial class CircuitBreaker
{
    private bool TryAcquireSlow(out CircuitPermit permit)
    {
        permit = default;
        var now = _time.GetTimestamp();
        var word = Volatile.Read(ref _word);

        // Lock-free refusals, so that a flood of calls against an open breaker does not queue on the lock.
        switch (CircuitStateWord.StateOf(word))
        {
            case CircuitState.Isolated:
            case CircuitState.Open when now < Volatile.Read(ref _openUntil):
            case CircuitState.HalfOpen when Volatile.Read(ref _trialsInFlight) >= _options.HalfOpenPermits
                                            && now - Volatile.Read(ref _lastTrialAt) < _trialTimeoutTicks:
                return false;
        }

        CircuitTransition? transition = null;
        var admitted = false;
        lock (_lock)
        {
            if (CircuitStateWord.StateOf(_word) == CircuitState.Open && now >= _openUntil)
            {
                transition = MoveTo_NeedsLock(CircuitState.HalfOpen, BreakElapsedReason());
            }

            word = _word;
            switch (CircuitStateWord.StateOf(word))
            {
                case CircuitState.Closed: // reset by someone since we looked
                    permit = new CircuitPermit(word, _stampStart ? now : 0);
                    admitted = true;
                    break;
                case CircuitState.HalfOpen when _trialsInFlight < _options.HalfOpenPermits:
                    _trialsInFlight++;
                    Volatile.Write(ref _lastTrialAt, now);
                    permit = new CircuitPermit(word, now);
                    admitted = true;
                    break;
                case CircuitState.HalfOpen when now - _lastTrialAt >= _trialTimeoutTicks:
                    // A trial that never reports must not wedge the breaker: treat it as failed.
                    transition = MoveTo_NeedsLock(CircuitState.Open, string.Create(CultureInfo.InvariantCulture,
                        $"trial call did not report within {_options.HalfOpenTrialTimeout}"));
                    break;
            }
        }

        Publish(transition);
        return admitted;
    }

    private void ReportClosed(long word, CallResult result, string? failureDetail, long now)
    {
        if (result == CallResult.Success)
        {
            ReportClosedSuccess();
            return;
        }

        var failures = Interlocked.Increment(ref _consecutiveFailures);
        string? reason = null;
        if (_options.ConsecutiveFailures > 0 && failures >= _options.ConsecutiveFailures)
        {
            reason = string.Create(CultureInfo.InvariantCulture, $"{failures} consecutive failures");
        }

        if (_window is not null)
        {
            _window.RecordFailure(now);
            if (reason is null)
            {
                var (successes, failed) = _window.Read(now);
                var calls = successes + failed;
                var ratio = calls == 0 ? 0 : (double)failed / calls;
                if (calls >= _options.MinimumThroughput && ratio >= _options.FailureRatio)
                {
                    reason = string.Create(CultureInfo.InvariantCulture,
                        $"failure ratio {ratio:0.00} ≥ {_options.FailureRatio:0.00} over {calls} calls");
                }
            }
        }

        if (reason is null)
        {
            return;
        }

        CircuitTransition? transition = null;
        lock (_lock)
        {
            if (_word == word)
            {
                transition = MoveTo_NeedsLock(CircuitState.Open, WithDetail(reason, failureDetail));
            }
        }

        Publish(transition);
    }

    private void ReportClosedSuccess()
    {
        if (Volatile.Read(ref _consecutiveFailures) != 0)
        {
            Volatile.Write(ref _consecutiveFailures, 0);
        }

        if (_window is not null && _window.RecordSuccess())
        {
            _window.Stamp(_time.GetTimestamp());
        }
    }

    private void ReportTrial(in CircuitPermit permit, CallResult result, string? failureDetail, long now)
    {
        CircuitTransition? transition = null;
        lock (_lock)
        {
            if (_word != permit.StateWord)
            {
                return;
            }

            _trialsInFlight--;
            if (result == CallResult.Failure)
            {
                transition = MoveTo_NeedsLock(CircuitState.Open, WithDetail("trial call failed", failureDetail));
            }
            else if (result == CallResult.Success && ++_trialSuccesses >= _options.SuccessesToClose)
            {
                transition = MoveTo_NeedsLock(CircuitState.Closed, string.Create(CultureInfo.InvariantCulture,
                    $"{_trialSuccesses} successful trial call{(_trialSuccesses == 1 ? "" : "s")}"));
            }
        }

        Publish(transition);
    }

    private void HalfOpenIfDue(long word)
    {
        CircuitTransition? transition = null;
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            if (_word == word && now >= _openUntil)
            {
                transition = MoveTo_NeedsLock(CircuitState.HalfOpen, BreakElapsedReason());
            }
        }

        Publish(transition);
    }

    /// <summary>The only place the state changes. Starts a new generation; returns the transition to publish after the lock.</summary>
    private CircuitTransition MoveTo_NeedsLock(CircuitState to, string reason)
    {
        var now = _time.GetTimestamp();
        var from = CircuitStateWord.StateOf(_word);
        _trialsInFlight = 0;
        _trialSuccesses = 0;
        var breakDuration = TimeSpan.Zero;
        switch (to)
        {
            case CircuitState.Open:
                // A re-trip from Half-Open lengthens the break; a trip from Closed starts it over.
                _currentBreak = from == CircuitState.HalfOpen ? Longer(_currentBreak) : _options.BreakDuration;
                breakDuration = _currentBreak;
                Volatile.Write(ref _openUntil, now + ToTicks(_currentBreak));
                break;
            case CircuitState.Closed:
                _currentBreak = _options.BreakDuration;
                ClearCounts_NeedsLock();
                break;
        }

        // Written last: a lock-free reader that sees the new word also sees the fields above.
        Volatile.Write(ref _word, CircuitStateWord.Next(_word, to));
        return new CircuitTransition(from, to, reason, _time.GetUtcNow(), CircuitStateWord.GenerationOf(_word), breakDuration);
    }

    private void ClearCounts_NeedsLock()
    {
        Volatile.Write(ref _consecutiveFailures, 0);
        _window?.Clear();
    }

    private TimeSpan Longer(TimeSpan current)
    {
        var ticks = current.Ticks * _options.BreakDurationMultiplier;
        return ticks >= _options.MaxBreakDuration.Ticks ? _options.MaxBreakDuration : TimeSpan.FromTicks((long)ticks);
    }

    private string BreakElapsedReason() =>
        string.Create(CultureInfo.InvariantCulture, $"break of {_currentBreak} elapsed");

    private static string WithDetail(string reason, string? detail) => detail is null ? reason : reason + ": " + detail;

    private void Publish(CircuitTransition? transition)
    {
        if (transition is { } t)
        {
            StateChanged?.Invoke(t);
        }
    }
}
