using System.Diagnostics;

namespace Rampart.Proxy.Transport;

/// <summary>
/// The timers of one <see cref="EventLoop"/>, fired on the loop's own thread as nginx fires its workers' timers: the loop
/// waits in <c>epoll_wait</c> no longer than until the first is due and runs the due ones after that turn's events. What
/// the requests and connections of a loop time (their deadlines and activity timeouts, <c>LazyTimeout</c>) then fires
/// where they run: no thread-pool thread woken per firing — a woken worker spun and yielded some twenty times before it
/// slept again, each yield taking the CPU from a loop, a destination or a client — and nothing crosses threads.
/// </summary>
/// <remarks>
/// Timers are created by <see cref="LoopTime.CreateTimer"/> on a loop's thread. A change may come from any thread: one
/// that brings the next firing before the loop's current wait ends wakes the loop (<see cref="EventLoop.Wake"/>). A
/// change leaves its earlier entry in the queue, to be skipped when it comes due (each entry carries the timer's version
/// it was scheduled for). The lock is taken twice per turn of the loop (its wait, its due timers) and by each change —
/// never per request: a request's deadline is a timestamp, its timer changed only when it must fire earlier.
/// </remarks>
internal sealed class LoopTimers(EventLoop loop)
{
    private readonly Lock _lock = new();
    private readonly PriorityQueue<(LoopTimer Timer, int Version), long> _queue = new(); // by due timestamp
    private long _waitingUntil = long.MaxValue; // when the loop's current wait ends (under _lock); MaxValue: no timeout

    /// <summary>How long the loop may wait for events, in milliseconds (-1: no timer is due ever), taken just before it waits.</summary>
    public int WaitMilliseconds(long now)
    {
        lock (_lock)
        {
            while (_queue.TryPeek(out var entry, out var due))
            {
                if (entry.Version != entry.Timer.Version)
                {
                    _queue.Dequeue(); // changed or disposed since
                    continue;
                }

                _waitingUntil = Math.Max(due, now);
                return due <= now ? 0 : (int)Math.Min(int.MaxValue - 1, Math.Ceiling((due - now) * 1000.0 / Stopwatch.Frequency)); // rounded up: never early
            }

            _waitingUntil = long.MaxValue;
            return -1;
        }
    }

    /// <summary>Fires, on the loop's thread, every timer due by <paramref name="now"/>.</summary>
    public void RunDue(long now)
    {
        while (true)
        {
            LoopTimer timer;
            lock (_lock)
            {
                _waitingUntil = now; // awake: a change meanwhile needs no wake-up, the loop reads the queue before waiting again
                if (!_queue.TryPeek(out var entry, out var due) || due > now)
                {
                    return;
                }

                _queue.Dequeue();
                if (entry.Version != entry.Timer.Version)
                {
                    continue;
                }

                timer = entry.Timer;
                timer.Fired_NeedsLock(now);
            }

            timer.Invoke();
        }
    }

    /// <summary>Schedules <paramref name="timer"/> (its version now) at <paramref name="due"/>; wakes the loop when that is before its wait ends.</summary>
    public void Schedule_NeedsLock(LoopTimer timer, long due)
    {
        _queue.Enqueue((timer, timer.Version), due);
        if (due < _waitingUntil && EventLoop.Current != loop)
        {
            _waitingUntil = due;
            loop.Wake();
        }
    }

    /// <summary>The lock every change takes.</summary>
    public Lock Lock => _lock;
}

/// <summary>A timer of a <see cref="LoopTimers"/>: an <see cref="ITimer"/> whose callback runs on its loop's thread.</summary>
internal sealed class LoopTimer : ITimer
{
    private readonly LoopTimers _timers;
    private readonly TimerCallback _callback;
    private readonly object? _state;
    private readonly ExecutionContext? _context; // captured at creation, as the system's timers flow it; null in the default one
    private long _periodTicks; // 0: one-shot
    private bool _disposed;

    public LoopTimer(LoopTimers timers, TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        _timers = timers;
        _callback = callback;
        _state = state;
        _context = ExecutionContext.Capture() is { } context && context != Rampart.Async.DefaultContext.Instance ? context : null;
        Change(dueTime, period);
    }

    /// <summary>Bumped by every change: a queued entry of another version is stale.</summary>
    public int Version { get; private set; }

    public bool Change(TimeSpan dueTime, TimeSpan period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dueTime, Timeout.InfiniteTimeSpan);
        ArgumentOutOfRangeException.ThrowIfLessThan(period, Timeout.InfiniteTimeSpan);
        lock (_timers.Lock)
        {
            if (_disposed)
            {
                return false;
            }

            Version++;
            _periodTicks = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? 0 : Ticks(period);
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                _timers.Schedule_NeedsLock(this, Stopwatch.GetTimestamp() + Ticks(dueTime));
            }

            return true;
        }
    }

    public void Dispose()
    {
        lock (_timers.Lock)
        {
            _disposed = true;
            Version++;
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }

    /// <summary>Taken from the queue to fire: a periodic one is scheduled again.</summary>
    internal void Fired_NeedsLock(long now)
    {
        if (_periodTicks > 0)
        {
            _timers.Schedule_NeedsLock(this, now + _periodTicks);
        }
    }

    /// <summary>Runs the callback (outside the lock: it may change or dispose the timer).</summary>
    internal void Invoke()
    {
        if (_context is null)
        {
            _callback(_state);
        }
        else
        {
            ExecutionContext.Run(_context, static s => { var t = (LoopTimer)s!; t._callback(t._state); }, this);
        }
    }

    private static long Ticks(TimeSpan span) => (long)Math.Min(long.MaxValue / 4, span.TotalSeconds * Stopwatch.Frequency);
}
