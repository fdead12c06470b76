using Rampart.Proxy.Tests.Infrastructure;
using Rampart.Proxy.Transport;

namespace Rampart.Proxy.Tests.Transport;

/// <summary>
/// A timer created on an epoll loop's thread (what a request's deadline and a connection's activity timeout create) is
/// the loop's: it fires on the loop's thread, in the context it was created in; a change from another thread that makes
/// it due wakes the loop; a changed or disposed one does not fire for what it was before. Off the loops, the system's.
/// </summary>
public sealed class LoopTimersTests
{
    private static readonly TimeSpan Never = Timeout.InfiniteTimeSpan;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30); // what a failing test waits before it says so

    [Fact]
    public async Task CreatedOnALoop_FiresOnThatLoopsThread()
    {
        var loop = EventLoop.Next();
        var fired = new TaskCompletionSource<EventLoop?>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var timer = await OnLoop.RunAsync(loop, () => LoopTime.Instance.CreateTimer(_ => fired.TrySetResult(EventLoop.Current), null, TimeSpan.Zero, Never));

        Assert.IsType<LoopTimer>(timer);
        Assert.Same(loop, await fired.Task.WaitAsync(Bound));
    }

    [Fact]
    public async Task ChangedFromAnotherThread_TheSleepingLoopIsWoken_AndFiresIt()
    {
        var loop = new EventLoop(100); // a loop of its own: no socket, no other test's timer ever wakes it
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var started = new LoopTimer(loop.Timers, _ => first.TrySetResult(), null, TimeSpan.Zero, Never);
        await first.Task.WaitAsync(Bound); // it ran a turn: it is back in epoll_wait, with no timeout, as this test goes on

        var fired = new TaskCompletionSource<EventLoop?>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var timer = new LoopTimer(loop.Timers, _ => fired.TrySetResult(EventLoop.Current), null, Never, Never);
        Assert.Null(EventLoop.Current);
        Assert.True(timer.Change(TimeSpan.Zero, Never)); // only a wake-up gets the loop out of its wait to fire it

        Assert.Same(loop, await fired.Task.WaitAsync(Bound));
    }

    [Fact]
    public async Task DisposedOrPutOff_BeforeItsTime_DoesNotFire()
    {
        var loop = EventLoop.Next();
        var stale = 0;
        var after = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var timers = await OnLoop.RunAsync(loop, () =>
        {
            // A live one due first: the loop's next turn does not wait, and the two below are due (and passed over) in it.
            var front = LoopTime.Instance.CreateTimer(_ => { }, null, TimeSpan.Zero, Never);
            var disposed = LoopTime.Instance.CreateTimer(_ => Interlocked.Increment(ref stale), null, TimeSpan.Zero, Never);
            disposed.Dispose();
            var putOff = LoopTime.Instance.CreateTimer(_ => Interlocked.Increment(ref stale), null, TimeSpan.Zero, Never);
            putOff.Change(Never, Never);
            // Due with them, queued after them: when it fires, their entries have come due and been passed over.
            var witness = LoopTime.Instance.CreateTimer(_ => after.TrySetResult(), null, TimeSpan.FromMilliseconds(1), Never);
            return (front, disposed, putOff, witness);
        });

        await after.Task.WaitAsync(Bound);
        Assert.Equal(0, Volatile.Read(ref stale));
        Assert.False(timers.disposed.Change(TimeSpan.Zero, Never)); // a disposed timer cannot be set again
        timers.front.Dispose();
        timers.putOff.Dispose();
        timers.witness.Dispose();
    }

    [Fact]
    public async Task Periodic_FiresAgainAndAgain_UntilDisposed()
    {
        var loop = EventLoop.Next();
        var count = 0;
        var thrice = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var timer = await OnLoop.RunAsync(loop, () => LoopTime.Instance.CreateTimer(
            _ =>
            {
                if (Interlocked.Increment(ref count) == 3)
                {
                    thrice.TrySetResult();
                }
            },
            null,
            TimeSpan.Zero,
            TimeSpan.FromMilliseconds(1)));

        await thrice.Task.WaitAsync(Bound);
    }

    [Fact]
    public async Task TheCallback_RunsInTheContextItWasCreatedIn()
    {
        var loop = EventLoop.Next();
        var value = new AsyncLocal<string>();
        var seen = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var timer = await OnLoop.RunAsync(loop, () =>
        {
            value.Value = "the creator's";
            var created = LoopTime.Instance.CreateTimer(_ => seen.TrySetResult(value.Value), null, TimeSpan.Zero, Never);
            value.Value = null!;
            return created;
        });

        Assert.Equal("the creator's", await seen.Task.WaitAsync(Bound)); // as the system's timers flow it
    }

    [Fact]
    public void OffTheLoops_ItIsTheSystemsTimer()
    {
        Assert.Null(EventLoop.Current);
        using var timer = LoopTime.Instance.CreateTimer(_ => { }, null, Never, Never);
        Assert.IsNotType<LoopTimer>(timer);
    }
}
