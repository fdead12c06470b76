using System.Collections.Concurrent;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>
/// The connections one destination may have open at once (<c>MaxConnectionsPerDestination</c>): a count of slots, and
/// the requests waiting when every slot is taken. A connection that ends a whole exchange goes to the first waiter
/// at once; a connection that closes frees its slot for a waiter, who opens a new one. Only requests beyond the limit
/// wait; under it nothing here takes a lock.
/// </summary>
internal sealed class ConnectionLimit(int max)
{
    private readonly ConcurrentQueue<TaskCompletionSource<Http1Connection?>> _waiters = new();
    private int _open;

    /// <summary>Connections open (or being opened) now.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>Takes a slot for a new connection; false when every slot is taken.</summary>
    public bool TryOpen()
    {
        while (true)
        {
            var open = Volatile.Read(ref _open);
            if (open >= max)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _open, open + 1, open) == open)
            {
                return true;
            }
        }
    }

    /// <summary>A connection closed (or could not be opened): its slot goes to a waiter, or is free again.</summary>
    public void Closed()
    {
        Interlocked.Decrement(ref _open);
        WakeForSlot();
    }

    /// <summary>Gives a connection that ended a whole exchange to a waiting request; false when none waits.</summary>
    public bool TryHandOver(Http1Connection connection) => TryWake(connection);

    /// <summary>Whether requests wait.</summary>
    public bool HasWaiters => !_waiters.IsEmpty;

    /// <summary>
    /// Waits until a connection is handed over (it is returned) or a slot frees (null: the caller opens a connection in
    /// it), or <paramref name="cancellationToken"/> ends the wait (then nothing is kept: what arrived meanwhile is passed on).
    /// </summary>
    /// <param name="takeIdle">Takes an idle connection of the pool, if any (one may have gone idle as the request began to wait).</param>
    /// <param name="giveBack">Gives back a connection the request ends up not using.</param>
    /// <param name="cancellationToken">The request's: its deadline, or the client leaving.</param>
    public async ValueTask<Http1Connection?> WaitAsync(Func<Http1Connection?> takeIdle, Action<Http1Connection> giveBack, CancellationToken cancellationToken)
    {
        var waiter = new TaskCompletionSource<Http1Connection?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Enqueue(waiter);

        // Whatever freed after the request looked and before it queued: a slot, or a connection gone idle.
        WakeForSlot();
        if (!waiter.Task.IsCompleted && takeIdle() is { } idle && !waiter.TrySetResult(idle))
        {
            giveBack(idle); // handed one meanwhile: this one goes back
        }

        try
        {
            return await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!waiter.TrySetCanceled(cancellationToken))
        {
            // Given a connection or a slot just as the wait ended: passed on, not kept.
            if (waiter.Task.Result is { } connection)
            {
                giveBack(connection);
            }
            else
            {
                Closed();
            }

            throw;
        }
    }

    // While requests wait and a slot is free: a waiter gets it.
    private void WakeForSlot()
    {
        while (!_waiters.IsEmpty && TryOpen())
        {
            if (!TryWake(null))
            {
                Interlocked.Decrement(ref _open); // nobody took it after all
            }
        }
    }

    private bool TryWake(Http1Connection? connection)
    {
        while (_waiters.TryDequeue(out var waiter))
        {
            if (waiter.TrySetResult(connection))
            {
                return true;
            }
        }

        return false;
    }
}
