namespace Rampart.Async;

/// <summary>
/// One thread's kept objects of one type, for its next use: the owner declares it as a <c>[ThreadStatic]</c> field of a
/// non-generic class, or of a generic one whose instantiations are not shared (over a struct), so that reaching it is a
/// plain thread-local access (shared generic code reaches its class's thread-local fields through a runtime helper).
/// What a request rents on an event loop returns to the same loop, so that neither the rent nor the return touches
/// memory another core writes (a pool all threads share costs a contended compare-and-swap each way). A thread keeps up
/// to <see cref="Keeping.OnThisThread"/>; beyond those, one pool per type that all threads share keeps up to
/// <see cref="Keeping.Shared"/> (the thread pool's threads rent on one thread and return on another; reached only when
/// a thread has none left, or no room); past both, a returned object is left to the GC.
/// </summary>
/// <typeparam name="T">What is kept.</typeparam>
internal struct KeptObjects<T>
    where T : class
{
    private static readonly Failover.ObjectPool<T> Shared = new(Keeping.Shared);

    private T?[]? _items;
    private int _count;

    /// <summary>One this thread kept, or a shared one, or null (the caller creates one).</summary>
    public T? TryTake()
    {
        var items = _items;
        if (items is not null && _count > 0)
        {
            var item = items[--_count]!;
            items[_count] = null;
            return item;
        }

        return Shared.TryTake();
    }

    /// <summary>Keeps <paramref name="item"/> (reset by the caller) for this thread's next <see cref="TryTake"/>.</summary>
    public void Return(T item)
    {
        var items = _items ??= new T?[Keeping.OnThisThread];
        if (_count < items.Length)
        {
            items[_count++] = item;
        }
        else
        {
            Shared.TryReturn(item); // or, the shared ones full too, left to the GC
        }
    }
}

/// <summary>How many objects of one type a thread keeps (<see cref="KeptObjects{T}"/>: suspended-method boxes, a request's state).</summary>
internal static class Keeping
{
    /// <summary>On an event loop: about the requests one loop carries at once (it finishes a batch, then starts one).</summary>
    public const int EventLoop = 64;

    /// <summary>On any other thread (.NET's own pooling builder keeps one).</summary>
    public const int Other = 8;

    /// <summary>
    /// The size of a type's pool shared by all threads, beyond what each keeps (.NET's own builder: one per core). A fixed
    /// number: a take that finds none scans them all (<see cref="Failover.ObjectPool{T}"/>), so it must not grow with the cores.
    /// </summary>
    public const int Shared = 64;

    [ThreadStatic]
    private static bool t_eventLoop;

    /// <summary>What this thread keeps of each type.</summary>
    public static int OnThisThread => t_eventLoop ? EventLoop : Other;

    /// <summary>Declares this thread an event loop (before it rents anything): it keeps <see cref="EventLoop"/> of each type.</summary>
    public static void ThisThreadIsAnEventLoop() => t_eventLoop = true;
}
