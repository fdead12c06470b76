namespace Rampart.Async;

/// <summary>
/// Objects of one type that threads keep for their next use: what a request rents on an event loop returns to the same
/// loop, so that neither the rent nor the return touches memory another core writes (a pool all threads share costs a
/// contended compare-and-swap each way). A thread keeps up to <see cref="Keeping.OnThisThread"/>; beyond those, all
/// threads share <see cref="Keeping.Shared"/> (the thread pool's threads rent on one thread and return on another);
/// past both, a returned object is left to the GC.
/// </summary>
/// <typeparam name="T">What is kept.</typeparam>
internal static class Kept<T>
    where T : class
{
    private static readonly Failover.ObjectPool<T> Shared = new(Keeping.Shared);

    [ThreadStatic]
    private static T?[]? t_kept;

    [ThreadStatic]
    private static int t_count;

    /// <summary>One this thread kept, or a shared one, or null (the caller creates one).</summary>
    public static T? TryTake()
    {
        var kept = t_kept;
        if (kept is not null && t_count > 0)
        {
            var item = kept[--t_count]!;
            kept[t_count] = null;
            return item;
        }

        return Shared.TryTake();
    }

    /// <summary>Keeps <paramref name="item"/> (reset by the caller) for the next <see cref="TryTake"/>.</summary>
    public static void Return(T item)
    {
        var kept = t_kept ??= new T?[Keeping.OnThisThread];
        if (t_count < kept.Length)
        {
            kept[t_count++] = item;
        }
        else
        {
            Shared.TryReturn(item); // or, the shared ones full too, left to the GC
        }
    }
}

/// <summary>How many objects of one type a thread keeps (<see cref="Kept{T}"/>: suspended-method boxes, a request's state).</summary>
internal static class Keeping
{
    /// <summary>On an event loop: about the requests one loop carries at once (it finishes a batch, then starts one).</summary>
    public const int EventLoop = 64;

    /// <summary>On any other thread (.NET's own pooling builder keeps one).</summary>
    public const int Other = 8;

    /// <summary>
    /// Shared by all threads, per type, beyond what each keeps (.NET's own builder: one per core). A fixed number: a
    /// take that finds none scans them all (<see cref="Failover.ObjectPool{T}"/>), so it must not grow with the cores.
    /// </summary>
    public const int Shared = 64;

    [ThreadStatic]
    private static bool t_eventLoop;

    /// <summary>What this thread keeps of each type.</summary>
    public static int OnThisThread => t_eventLoop ? EventLoop : Other;

    /// <summary>Declares this thread an event loop (before it rents anything): it keeps <see cref="EventLoop"/> of each type.</summary>
    public static void ThisThreadIsAnEventLoop() => t_eventLoop = true;
}
