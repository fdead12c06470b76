using Rampart.Async;

namespace Rampart.Tests.Async;

/// <summary>
/// Per-thread keeping of pooled objects (the attempt loop's state, response heads, suspended-method boxes): what a
/// thread returns it takes back itself, without another thread seeing it, up to what it keeps; beyond that, a bounded
/// number is shared. Each test keeps a type of its own, on threads of its own (what a thread keeps is its own).
/// </summary>
public sealed class KeptObjectsTests
{
    [ThreadStatic]
    private static KeptObjects<LoopThing> t_loopThings;

    [ThreadStatic]
    private static KeptObjects<SharedThing> t_sharedThings;

    [Fact]
    public void AnEventLoop_TakesBackWhatItReturned_AndNoOtherThreadSeesIt()
    {
        var (returned, takenBack, takenElsewhere) = OwnThread.Run(() =>
        {
            Keeping.ThisThreadIsAnEventLoop();
            var things = Enumerable.Range(0, Keeping.EventLoop).Select(_ => new LoopThing()).ToList();
            things.ForEach(t => t_loopThings.Return(t));
            var elsewhere = OwnThread.Run(() => t_loopThings.TryTake()); // nothing was shared
            var back = Enumerable.Range(0, Keeping.EventLoop).Select(_ => t_loopThings.TryTake()).ToList();
            return (things, back, elsewhere);
        });

        Assert.Null(takenElsewhere);
        Assert.Equal(returned.OrderBy(t => t.Id), takenBack.OrderBy(t => t!.Id));
    }

    [Fact]
    public void BeyondWhatAThreadKeeps_ABoundedNumberIsShared()
    {
        var returned = OwnThread.Run(() =>
        {
            var things = Enumerable.Range(0, Keeping.Other + Keeping.Shared + 8).Select(_ => new SharedThing()).ToList();
            things.ForEach(t => t_sharedThings.Return(t));
            return things;
        });

        var taken = OwnThread.Run(() =>
        {
            var all = new List<SharedThing>();
            while (t_sharedThings.TryTake() is { } thing)
            {
                all.Add(thing);
            }

            return all;
        });

        // The returning thread kept its own few; of the rest, the shared ones (a pool's worth), and the GC has what is left.
        Assert.InRange(taken.Count, Keeping.Shared, returned.Count - Keeping.Other - 1);
        Assert.All(taken, t => Assert.Contains(t, returned));
    }

    private sealed class LoopThing
    {
        private static int s_next;

        public int Id { get; } = Interlocked.Increment(ref s_next);
    }

    private sealed class SharedThing;
}
