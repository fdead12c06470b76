using System.Diagnostics;

namespace Rampart.Proxy.Transport;

/// <summary>
/// The proxy's clock: the system's, except on an event loop's thread. There a timestamp is the loop's
/// (<see cref="EventLoop.Now"/>, read once per batch of events) rather than a clock read of its own: a request on the
/// loops reads the time about eight times (its deadline, its attempt's start and end, its connections' idle and
/// activity times, the response's data rate), and the requests of a batch share one read. And a timer created there is
/// the loop's (<see cref="LoopTimers"/>): it fires on the loop's thread, as nginx's timers do, not on the thread pool.
/// Wall-clock time and every thread off the loops are the system's.
/// </summary>
/// <remarks>
/// A loop's timestamp is behind the real clock by at most the time the loop has spent on its current batch (well under
/// a millisecond at full load): deadlines taken there come that much earlier, never later, and durations measured
/// there (an attempt's, for its histogram) are those of the batches that started and ended them.
/// </remarks>
internal sealed class LoopTime : TimeProvider
{
    private LoopTime()
    {
    }

    /// <summary>The one instance (registered as the proxy's <see cref="TimeProvider"/>).</summary>
    public static LoopTime Instance { get; } = new();

    public override long GetTimestamp() => EventLoop.Current is { } loop ? loop.Now : Stopwatch.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return EventLoop.Current is { } loop ? new LoopTimer(loop.Timers, callback, state, dueTime, period) : base.CreateTimer(callback, state, dueTime, period);
    }
}
