using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using static Rampart.Proxy.Transport.EpollNative;

namespace Rampart.Proxy.Transport;

/// <summary>
/// One thread waiting in <c>epoll_wait</c> for the sockets registered with it (edge-triggered), and running what their
/// readiness completes right there: a request's whole work runs on the loop its client connection belongs to, and the
/// connections to destinations it opens belong to the same loop. Nothing on that path may block (Rampart's does not).
/// One loop per core (<see cref="Next"/>), started on first use, living as long as the process.
/// </summary>
internal sealed unsafe class EventLoop
{
    private const int MaxEvents = 256;
    private static readonly Lazy<EventLoop[]> Loops = new(() => [.. Enumerable.Range(0, Environment.ProcessorCount).Select(i => new EventLoop(i))]);
    private static int s_next;

    [ThreadStatic]
    private static EventLoop? t_current;

    private readonly int _epoll;
    private readonly ConcurrentDictionary<long, EpollSocket> _sockets = new();
    private long _nextId;

    private EventLoop(int index)
    {
        Index = index;
        _epoll = epoll_create1(EPOLL_CLOEXEC);
        if (_epoll < 0)
        {
            throw new InvalidOperationException("epoll_create1 failed: errno " + Marshal.GetLastPInvokeError());
        }

        new Thread(Run) { IsBackground = true, Name = "Rampart epoll " + index }.Start();
    }

    /// <summary>How many loops there are (one per core), once they run.</summary>
    public static int Count => Environment.ProcessorCount;

    /// <summary>Its place among the loops, from 0 (what per-loop state is indexed by).</summary>
    public int Index { get; }

    /// <summary>The loop running on this thread, or null off every loop.</summary>
    public static EventLoop? Current => t_current;

    /// <summary>
    /// The loop for a new connection to a destination while the loops run (the epoll transport is in use): this
    /// thread's, so that the request and its destination wake the same thread, or the next one (a connection's first
    /// request starts on the thread pool); null while they do not run (the connection stays on .NET's sockets).
    /// </summary>
    public static EventLoop? ForConnection => t_current ?? (Loops.IsValueCreated ? Next() : null);

    /// <summary>The next loop, in turn (new client connections are spread over them).</summary>
    public static EventLoop Next()
    {
        var loops = Loops.Value;
        return loops[(int)((uint)Interlocked.Increment(ref s_next) % (uint)loops.Length)];
    }

    /// <summary>Watches <paramref name="socket"/> (in, out, peer's end; edge-triggered) until <see cref="Unregister"/>.</summary>
    public long Register(EpollSocket socket)
    {
        var id = Interlocked.Increment(ref _nextId);
        _sockets[id] = socket;
        var ev = new EpollEvent { Events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, Data = (ulong)id };
        if (epoll_ctl(_epoll, EPOLL_CTL_ADD, socket.Handle, &ev) != 0)
        {
            _sockets.TryRemove(id, out _);
            throw new System.Net.Sockets.SocketException((int)ToSocketError(Marshal.GetLastPInvokeError()));
        }

        return id;
    }

    /// <summary>Stops delivering its events (its closing removes it from epoll).</summary>
    public void Unregister(long id) => _sockets.TryRemove(id, out _);

    private void Run()
    {
        t_current = this;
        var events = stackalloc EpollEvent[MaxEvents];
        while (true)
        {
            var count = epoll_wait(_epoll, events, MaxEvents, -1);
            for (var i = 0; i < count; i++)
            {
                if (_sockets.TryGetValue((long)events[i].Data, out var socket))
                {
                    socket.OnEvents(events[i].Events);
                }
            }
        }
    }
}
