// The probe's question asked one level lower: the same forwarding (body-less GETs, Content-Length responses, pooled
// upstream connections, round robin, none of Rampart's decisions) on its own epoll loops instead of .NET's sockets,
// with nginx's I/O discipline: edge-triggered readiness, and a read shorter than the buffer means "drained" (no read
// that is sure to fail with EAGAIN). Measures how much of the floor is the socket layer. Usage: EpollProbe PORT BACKEND_PORT...
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

var port = int.Parse(args[0]);
var backends = args.Skip(1).Select(int.Parse).ToArray();
var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
listener.Listen(1024);
listener.Blocking = false;
var loops = int.TryParse(Environment.GetEnvironmentVariable("PROBE_LOOPS"), out var n) ? n : Environment.ProcessorCount;
var threads = Enumerable.Range(0, loops).Select(_ => new Thread(new Loop((int)listener.Handle, backends).Run) { IsBackground = true }).ToList();
threads.ForEach(t => t.Start());
threads.ForEach(t => t.Join());

internal static unsafe partial class Native
{
    public const uint EPOLLIN = 1, EPOLLOUT = 4, EPOLLRDHUP = 0x2000, EPOLLET = 1u << 31, EPOLLEXCLUSIVE = 1 << 28;
    public const int EAGAIN = 11;

    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", SetLastError = true)] public static partial int epoll_create1(int flags);
    [LibraryImport("libc", SetLastError = true)] public static partial int epoll_ctl(int epfd, int op, int fd, EpollEvent* ev);
    [LibraryImport("libc", SetLastError = true)] public static partial int epoll_wait(int epfd, EpollEvent* events, int max, int timeout);
    [LibraryImport("libc", SetLastError = true)] public static partial nint recv(int fd, byte* buf, nint len, int flags);
    [LibraryImport("libc", SetLastError = true)] public static partial nint send(int fd, byte* buf, nint len, int flags);
    [LibraryImport("libc", SetLastError = true)] public static partial int accept4(int fd, nint addr, nint len, int flags);
    [LibraryImport("libc", SetLastError = true)] public static partial int close(int fd);
    [LibraryImport("libc", SetLastError = true)] public static partial int setsockopt(int fd, int level, int name, int* value, int len);
}

internal sealed unsafe class Conn
{
    public int Fd;
    public bool IsUpstream;
    public int Backend;
    public bool Ready; // readable since the last short read
    public byte[] Buffer = GC.AllocateArray<byte>(16 * 1024, pinned: true);
    public int Filled;
    public Conn? Peer; // client <-> upstream while a request is in flight
    public int Remaining; // upstream: response bytes still to come
    public bool InHead;
    public bool Closed;
}

internal sealed unsafe class Loop(int listenFd, int[] ports)
{
    private readonly int _ep = Native.epoll_create1(0);
    private readonly Dictionary<int, Conn> _conns = [];
    private readonly Stack<Conn>[] _idle = [.. ports.Select(_ => new Stack<Conn>())];
    private int _next;

    public void Run()
    {
        var ev = new Native.EpollEvent { Events = Native.EPOLLIN | Native.EPOLLEXCLUSIVE, Data = ulong.MaxValue };
        Native.epoll_ctl(_ep, 1, listenFd, &ev);
        var events = stackalloc Native.EpollEvent[256];
        while (true)
        {
            var count = Native.epoll_wait(_ep, events, 256, -1);
            for (var i = 0; i < count; i++)
            {
                if (events[i].Data == ulong.MaxValue)
                {
                    Accept();
                    continue;
                }

                if (_conns.TryGetValue((int)events[i].Data, out var c))
                {
                    c.Ready = true;
                    OnReadable(c);
                }
            }
        }
    }

    private void Register(Conn c)
    {
        _conns[c.Fd] = c;
        var ev = new Native.EpollEvent { Events = Native.EPOLLIN | Native.EPOLLRDHUP | Native.EPOLLET, Data = (ulong)c.Fd };
        Native.epoll_ctl(_ep, 1, c.Fd, &ev);
    }

    private void Accept()
    {
        while (true)
        {
            var fd = Native.accept4(listenFd, 0, 0, 0x800 /* SOCK_NONBLOCK */);
            if (fd < 0)
            {
                return;
            }

            var one = 1;
            Native.setsockopt(fd, 6, 1, &one, 4); // TCP_NODELAY
            var c = new Conn { Fd = fd };
            Register(c);
            c.Ready = true;
            OnReadable(c);
        }
    }

    // Reads what there is (nginx: a short read means the socket is drained), then acts.
    private void OnReadable(Conn c)
    {
        while (c.Ready && c.Filled < c.Buffer.Length)
        {
            nint got;
            fixed (byte* b = c.Buffer)
            {
                got = Native.recv(c.Fd, b + c.Filled, c.Buffer.Length - c.Filled, 0);
            }

            if (got < 0)
            {
                if (Marshal.GetLastPInvokeError() == Native.EAGAIN)
                {
                    c.Ready = false;
                    break;
                }

                Close(c);
                return;
            }

            if (got == 0)
            {
                Close(c);
                return;
            }

            if (got < c.Buffer.Length - c.Filled)
            {
                c.Ready = false;
            }

            c.Filled += (int)got;
            if (c.IsUpstream)
            {
                OnResponseBytes(c);
            }
            else
            {
                OnRequestBytes(c);
            }
        }
    }

    private void OnRequestBytes(Conn client)
    {
        if (client.Peer is not null)
        {
            return; // one request at a time
        }

        var end = client.Buffer.AsSpan(0, client.Filled).IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return;
        }

        end += 4;
        var index = (int)((uint)++_next % (uint)ports.Length);
        Conn? up = null;
        while (_idle[index].Count > 0 && (up = _idle[index].Pop()).Closed)
        {
            up = null;
        }

        up ??= Connect(index);
        client.Peer = up;
        up.Peer = client;
        up.InHead = true;
        up.Filled = 0;
        fixed (byte* b = client.Buffer)
        {
            Native.send(up.Fd, b, end, 0);
        }

        client.Buffer.AsSpan(end, client.Filled - end).CopyTo(client.Buffer);
        client.Filled -= end;
        if (up.Ready)
        {
            OnReadable(up);
        }
    }

    private void OnResponseBytes(Conn up)
    {
        var client = up.Peer;
        if (client is null)
        {
            Close(up);
            return;
        }

        var start = 0;
        if (up.InHead)
        {
            var end = up.Buffer.AsSpan(0, up.Filled).IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                return;
            }

            end += 4;
            up.Remaining = end + ContentLength(up.Buffer.AsSpan(0, end));
            up.InHead = false;
        }

        var chunk = Math.Min(up.Filled - start, up.Remaining);
        fixed (byte* b = up.Buffer)
        {
            Native.send(client.Fd, b + start, chunk, 0);
        }

        up.Remaining -= chunk;
        up.Filled = 0;
        if (up.Remaining == 0)
        {
            client.Peer = null;
            up.Peer = null;
            _idle[up.Backend].Push(up);
            if (client.Filled > 0)
            {
                OnRequestBytes(client);
            }
        }
    }

    private Conn Connect(int index)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        s.Connect(IPAddress.Loopback, ports[index]);
        s.Blocking = false;
        var up = new Conn { Fd = (int)s.Handle, IsUpstream = true, Backend = index };
        GC.KeepAlive(s);
        Keep.Add(s);
        Register(up);
        return up;
    }

    private static readonly List<Socket> Keep = [];

    private void Close(Conn c)
    {
        _conns.Remove(c.Fd);
        c.Closed = true;
        if (!c.IsUpstream)
        {
            Native.close(c.Fd);
            if (c.Peer is { } up)
            {
                Close(up); // mid-response: the upstream connection is out of step
            }
        }
        else
        {
            Native.close(c.Fd);
        }
    }

    private static int ContentLength(ReadOnlySpan<byte> head)
    {
        var at = head.IndexOf("Content-Length: "u8);
        if (at < 0)
        {
            at = head.IndexOf("content-length: "u8);
        }

        var value = head[(at + 16)..];
        return int.Parse(Encoding.ASCII.GetString(value[..value.IndexOf("\r\n"u8)]));
    }
}
