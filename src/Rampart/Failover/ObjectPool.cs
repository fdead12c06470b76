namespace Rampart.Failover;

/// <summary>A small lock-free pool: what a request rents is not allocated per request. Full: returned items are dropped.</summary>
internal sealed class ObjectPool<T>(int size)
    where T : class
{
    private readonly T?[] _items = new T?[size];
    private T? _first;

    public T? TryTake()
    {
        var item = _first;
        if (item is not null && Interlocked.CompareExchange(ref _first, null, item) == item)
        {
            return item;
        }

        var items = _items;
        for (var i = 0; i < items.Length; i++)
        {
            item = items[i];
            if (item is not null && Interlocked.CompareExchange(ref items[i], null, item) == item)
            {
                return item;
            }
        }

        return null;
    }

    public void Return(T item) => TryReturn(item);

    /// <summary>Keeps <paramref name="item"/>; false when the pool is full (the caller disposes it).</summary>
    public bool TryReturn(T item)
    {
        if (_first is null && Interlocked.CompareExchange(ref _first, item, null) is null)
        {
            return true;
        }

        var items = _items;
        for (var i = 0; i < items.Length; i++)
        {
            if (items[i] is null && Interlocked.CompareExchange(ref items[i], item, null) is null)
            {
                return true;
            }
        }

        return false;
    }
}
