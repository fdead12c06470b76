namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>
/// A connection's activity timeout (as YARP's: the time allowed without progress, restarted by every wait), for the
/// price of a timestamp per wait: the timer is set once when an exchange starts, and when it fires it looks at the
/// last activity — cancelling when the connection has waited that long, setting itself again for what is left
/// otherwise. Between exchanges it counts nothing, and a firing left over from an earlier exchange never ends a later one.
/// </summary>
internal sealed class ActivityTimer : IDisposable
{
    // The low two bits of the state; the rest numbers the exchanges, so that a firing can tell its own from a later one.
    private const long Idle = 0;
    private const long Active = 1;
    private const long Fired = 2;
    private const long Phase = 3;

    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly CancellationTokenSource _cancel = new();
    private readonly ITimer _timer;
    private long _state;
    private long _lastActivity;

    public ActivityTimer(TimeProvider time, TimeSpan timeout)
    {
        _time = time;
        _timeout = timeout;
        _timer = time.CreateTimer(static t => ((ActivityTimer)t!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Cancelled when the timeout passed without activity, or by <see cref="Cancel"/>.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>Whether it was cancelled (the timeout, or <see cref="Cancel"/>).</summary>
    public bool IsCancelled => _cancel.IsCancellationRequested;

    /// <summary>Activity, before a wait: the timeout counts from now (the timer is set when an exchange starts).</summary>
    public CancellationToken Touch()
    {
        Volatile.Write(ref _lastActivity, _time.GetTimestamp());
        var state = Volatile.Read(ref _state);
        if ((state & Phase) == Idle && Interlocked.CompareExchange(ref _state, (((state >> 2) + 1) << 2) | Active, state) == state)
        {
            _timer.Change(_timeout, Timeout.InfiniteTimeSpan);
        }

        return _cancel.Token;
    }

    /// <summary>The exchange is over: the timeout counts no more. False when it already fired (or was cancelled).</summary>
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

    private void OnTimer()
    {
        var state = Volatile.Read(ref _state);
        if ((state & Phase) != Active)
        {
            return; // between exchanges, or fired already
        }

        var quiet = _time.GetElapsedTime(Volatile.Read(ref _lastActivity));
        if (quiet < _timeout)
        {
            try
            {
                _timer.Change(_timeout - quiet, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // Closed meanwhile.
            }

            return;
        }

        if (Interlocked.CompareExchange(ref _state, (state & ~Phase) | Fired, state) == state)
        {
            Cancel();
        }
    }
}
