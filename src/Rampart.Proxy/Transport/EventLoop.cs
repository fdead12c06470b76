using System.Diagnostics;
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
    private const ulong WakeId = ulong.MaxValue; // the event of the loop's eventfd (a socket's carries its slot and generation)
    private static readonly Lazy<EventLoop[]> Loops = new(() => [.. Enumerable.Range(0, Environment.ProcessorCount).Select(i => new EventLoop(i))]);
    private static int s_next;
    private static bool s_pin; // the loops, once they start, each on a CPU of its own

    [ThreadStatic]
    private static EventLoop? t_current;

    private readonly int _epoll;
    private readonly int _wake; // an eventfd: written to wake the loop early (a timer changed on another thread)
    private readonly Lock _registering = new(); // taken to register and unregister (a connection's start and end), never per event
    private readonly Stack<int> _free = new();
    private EpollSocket?[] _slots = new EpollSocket?[256]; // the registered sockets, by slot: an event's data is its slot and generation
    private int _used;
    private uint _generation;
    private readonly int _cpu; // the CPU its thread is to be pinned to, or -1
    private volatile bool _onItsCpu; // pinned there

    /// <summary>Starts a loop (the process's are made by <see cref="Next"/>; a test may start one of its own, which no socket wakes).</summary>
    internal EventLoop(int index)
    {
        Index = index;
        _cpu = s_pin ? CpuOf(index) : -1;
        _epoll = epoll_create1(EPOLL_CLOEXEC);
        if (_epoll < 0)
        {
            throw new InvalidOperationException("epoll_create1 failed: errno " + Marshal.GetLastPInvokeError());
        }

        _wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        var wakeEvent = new EpollEvent { Events = EPOLLIN, Data = WakeId };
        if (_wake < 0 || epoll_ctl_fd(_epoll, EPOLL_CTL_ADD, _wake, &wakeEvent) != 0)
        {
            throw new InvalidOperationException("eventfd failed: errno " + Marshal.GetLastPInvokeError());
        }

        Timers = new LoopTimers(this);

        // Started without the execution context of whoever created the loops (a request, with its async-local values),
        // and waited for: the loops run, on their CPUs when pinned, before the first connection is theirs.
        var running = new ManualResetEventSlim(); // not disposed: its Set may still be returning when Wait does
        new Thread(() => Run(running)) { IsBackground = true, Name = "Rampart epoll " + index }.UnsafeStart();
        running.Wait();
    }

    /// <summary>
    /// Has the loops, once they start, each run on a CPU of their own (<c>Rampart:Server:PinLoops</c>), as nginx's
    /// <c>worker_cpu_affinity auto</c> pins its workers: loop N on the process's Nth allowed CPU. Called before the
    /// first connection; the loops are the process's, so what was asked when they start holds.
    /// </summary>
    public static void PinOnStart(bool pin) => s_pin = pin;

    /// <summary>Whether the loops run, each pinned to its CPU.</summary>
    public static bool ArePinned => Loops.IsValueCreated && Loops.Value.All(loop => loop._onItsCpu);

    /// <summary>How many loops there are (one per core), once they run.</summary>
    public static int Count => Environment.ProcessorCount;

    /// <summary>Its place among the loops, from 0 (what per-loop state is indexed by).</summary>
    public int Index { get; }

    /// <summary>
    /// The loop's clock (a <see cref="Stopwatch"/> timestamp): read once each time <c>epoll_wait</c> returns, so that the
    /// requests of one batch of events share one clock read, as nginx's workers update their time once per turn of
    /// their loop. Behind the real clock by at most the time the loop has spent on its current batch. Read on the
    /// loop's thread only (<see cref="LoopTime"/>).
    /// </summary>
    public long Now { get; private set; }

    /// <summary>Its timers, fired on its thread (<see cref="LoopTime.CreateTimer"/>).</summary>
    public LoopTimers Timers { get; }

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
    /// <remarks>Its <see cref="EpollSocket.Registration"/> is set first: its slot and the slot's generation (an event for a slot's earlier socket is dropped).</remarks>
    public void Register(EpollSocket socket)
    {
        ulong id;
        lock (_registering)
        {
            var slot = _free.Count > 0 ? _free.Pop() : _used++;
            if (slot == _slots.Length)
            {
                var grown = new EpollSocket?[_slots.Length * 2];
                _slots.CopyTo(grown, 0);
                Volatile.Write(ref _slots, grown); // before the socket is added to epoll: its events find it
            }

            id = (uint)slot | ((ulong)++_generation << 32);
            socket.Registration = id; // before the socket is in its slot and in epoll: its first event matches
            _slots[slot] = socket;
        }

        var ev = new EpollEvent { Events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, Data = id };
        if (epoll_ctl(_epoll, EPOLL_CTL_ADD, socket.Handle, &ev) != 0)
        {
            Unregister(id);
            throw new System.Net.Sockets.SocketException((int)ToSocketError(Marshal.GetLastPInvokeError()));
        }
    }

    /// <summary>Stops delivering its events (its closing removes it from epoll) and frees its slot.</summary>
    public void Unregister(ulong id)
    {
        var slot = (int)(uint)id;
        lock (_registering)
        {
            if (_slots[slot] is { } socket && socket.Registration == id)
            {
                _slots[slot] = null;
                _free.Push(slot);
            }
        }
    }

    /// <summary>Wakes the loop out of <c>epoll_wait</c> (from another thread: a timer of its now due sooner).</summary>
    public void Wake()
    {
        ulong one = 1;
        WriteFd(_wake, &one, sizeof(ulong)); // fails only when the counter is full: the loop is woken anyway
    }

    /// <summary>The <paramref name="index"/>th CPU this process may run on, or -1 when there are fewer (or they cannot be read).</summary>
    private static int CpuOf(int index)
    {
        var mask = stackalloc byte[CpuSetSize];
        if (sched_getaffinity(0, CpuSetSize, mask) != 0)
        {
            return -1;
        }

        for (var cpu = 0; cpu < CpuSetSize * 8; cpu++)
        {
            if ((mask[cpu / 8] & (1 << (cpu % 8))) != 0 && index-- == 0)
            {
                return cpu;
            }
        }

        return -1;
    }

    private void Run(ManualResetEventSlim running)
    {
        t_current = this;
        if (_cpu >= 0)
        {
            var mask = stackalloc byte[CpuSetSize];
            new Span<byte>(mask, CpuSetSize).Clear();
            mask[_cpu / 8] = (byte)(1 << (_cpu % 8));
            _onItsCpu = sched_setaffinity(0, CpuSetSize, mask) == 0; // refused (a container's policy): it runs where the scheduler puts it
        }

        running.Set();

        Rampart.Async.Keeping.ThisThreadIsAnEventLoop(); // it finishes a batch of requests, then starts one
        var events = stackalloc EpollEvent[MaxEvents];
        while (true)
        {
            var count = epoll_wait(_epoll, events, MaxEvents, Timers.WaitMilliseconds(Stopwatch.GetTimestamp()));
            Now = Stopwatch.GetTimestamp();
            var slots = Volatile.Read(ref _slots);
            for (var i = 0; i < count; i++)
            {
                var id = events[i].Data;
                var slot = (int)(uint)id;
                if ((uint)slot < (uint)slots.Length && slots[slot] is { } socket && socket.Registration == id)
                {
                    socket.OnEvents(events[i].Events);
                }
                else if (id == WakeId)
                {
                    ulong woken;
                    ReadFd(_wake, &woken, sizeof(ulong)); // reset: the timers are read below
                }
            }

            Timers.RunDue(Now);
        }
    }
}
