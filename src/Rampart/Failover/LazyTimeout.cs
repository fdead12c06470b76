namespace Rampart.Failover;

/// <summary>
/// A timeout that takes no lock and sets no timer on the request path: starting it, and restarting it on activity,
/// write a deadline; its one timer, when it fires, compares the deadline with the clock and either cancels or sets
/// itself again for what is left. At a steady rate of requests the timer fires about once per timeout and is set about
/// as often, whatever the number of requests (a <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/> per request
/// takes the timer queue's lock twice). Reused while it did not fire: <see cref="TryStop"/> between uses.
/// </summary>
/// <remarks>
/// Never early (it cancels only once the clock passed the deadline) and never late (the timer is set, at the latest,
/// for the current deadline: a start whose deadline is earlier than the timer's next firing sets it earlier).
/// A firing left over from an earlier use never ends a later one.
/// </remarks>
internal sealed class LazyTimeout : IDisposable
{
    // The low two bits of the state; the rest numbers the uses, so that a firing can tell its own use from a later one.
    private const long Idle = 0;
    private const long Active = 1;
    private const long Fired = 2;
    private const long Phase = 3;
    private const long Unscheduled = long.MaxValue;

    private readonly CancellationTokenSource _cancel = new();
    private readonly ITimer _timer;
    private readonly Lock _arming = new(); // only when the timer has to be set earlier: never on a steady request path
    private long _state;
    private long _deadline = Unscheduled;
    private long _due = Unscheduled;
    private long _timeoutTicks;

    /// <summary>Creates one on <paramref name="time"/>'s clock, stopped.</summary>
    public LazyTimeout(TimeProvider time)
    {
        Time = time;
        _timer = time.CreateTimer(static t => ((LazyTimeout)t!).OnTimer(), this, System.Threading.Timeout.InfiniteTimeSpan, System.Threading.Timeout.InfiniteTimeSpan);
    }

    /// <summary>Its clock.</summary>
    public TimeProvider Time { get; }

    /// <summary>Cancelled when the deadline passed, or by <see cref="Cancel"/>.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>Whether it was cancelled (the deadline, or <see cref="Cancel"/>).</summary>
    public bool IsCancelled => _cancel.IsCancellationRequested;

    /// <summary>Starts a use: the deadline is <paramref name="timeout"/> from now (until <see cref="Touch"/> moves it).</summary>
    public CancellationToken Start(TimeSpan timeout)
    {
        var seconds = Math.Max(0, timeout.TotalSeconds);
        var ticks = timeout == System.Threading.Timeout.InfiniteTimeSpan || seconds >= long.MaxValue / 2.0 / Time.TimestampFrequency
            ? Unscheduled // infinite, or too far off to ever come
            : (long)(seconds * Time.TimestampFrequency);
        Volatile.Write(ref _timeoutTicks, ticks);
        var deadline = DeadlineFrom(Time.GetTimestamp(), ticks);
        Volatile.Write(ref _deadline, deadline);
        var state = Volatile.Read(ref _state);
        if ((state & Phase) == Idle)
        {
            Interlocked.CompareExchange(ref _state, (((state >> 2) + 1) << 2) | Active, state);
        }

        if (deadline < Volatile.Read(ref _due))
        {
            Arm(deadline); // not set, or set for later than this deadline: the rare way
        }

        return _cancel.Token;
    }

    /// <summary>Activity: the deadline moves to the timeout from now (an activity timeout); a timestamp, nothing more.</summary>
    public CancellationToken Touch()
    {
        Volatile.Write(ref _deadline, DeadlineFrom(Time.GetTimestamp(), Volatile.Read(ref _timeoutTicks)));
        return _cancel.Token;
    }

    /// <summary>The use is over: its deadline counts no more. False when it fired or was cancelled (then it cannot be reused).</summary>
    public bool TryStop()
    {
        var state = Volatile.Read(ref _state);
        return (state & Phase) != Fired
            && Interlocked.CompareExchange(ref _state, state & ~Phase, state) == state
            && !_cancel.IsCancellationRequested;
    }

    /// <summary>Ends every wait on it now.</summary>
    public void Cancel()
    {
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed already: nothing waits on it any more.
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _cancel.Dispose();
    }

    private static long DeadlineFrom(long now, long ticks) => ticks == Unscheduled || now > Unscheduled - ticks ? Unscheduled : now + ticks;

    private void OnTimer()
    {
        Interlocked.Exchange(ref _due, Unscheduled); // it fired: nothing is scheduled until it is set again
        var state = Volatile.Read(ref _state); // read after the write above: a start that saw the old firing is seen here
        if ((state & Phase) != Active)
        {
            return; // between uses (the next start sets it), or fired already
        }

        var deadline = Volatile.Read(ref _deadline);
        if (Time.GetTimestamp() < deadline)
        {
            Arm(deadline);
            return;
        }

        if (Interlocked.CompareExchange(ref _state, (state & ~Phase) | Fired, state) == state)
        {
            Cancel();
        }
    }

    // Sets the timer for the deadline unless it is set for earlier already.
    private void Arm(long deadline)
    {
        lock (_arming)
        {
            if (deadline >= _due || deadline == Unscheduled)
            {
                return;
            }

            var wait = TimeSpan.FromSeconds(Math.Max(0, deadline - Time.GetTimestamp()) / (double)Time.TimestampFrequency);
            Volatile.Write(ref _due, deadline);
            try
            {
                _timer.Change(wait, System.Threading.Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // Disposed meanwhile: nothing to time.
            }
        }
    }
}
