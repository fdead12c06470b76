using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Rampart.Proxy.Transport;

/// <summary>The few Linux calls the epoll transport makes itself (x64's <c>epoll_event</c> layout: packed, 12 bytes).</summary>
internal static unsafe partial class EpollNative
{
    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLET = 1u << 31;

    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const int EPOLL_CLOEXEC = 0x80000;

    public const int MSG_PEEK = 0x02;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_NOSIGNAL = 0x4000;

    public const int EINTR = 4;
    public const int EAGAIN = 11;

    /// <summary>Whether this process can run the epoll transport: Linux on x64, whose <c>epoll_event</c> layout this file declares.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, SafeSocketHandle fd, EpollEvent* ev);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_wait(int epfd, EpollEvent* events, int maxEvents, int timeout);

    /// <summary><c>epoll_ctl</c> on a descriptor of the loop's own (its wake-up <c>eventfd</c>).</summary>
    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int epoll_ctl_fd(int epfd, int op, int fd, EpollEvent* ev);

    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;

    /// <summary>An <c>eventfd</c>: a counter another thread writes to wake a loop out of <c>epoll_wait</c>.</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", EntryPoint = "read")]
    public static partial nint ReadFd(int fd, void* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write")]
    public static partial nint WriteFd(int fd, void* buffer, nint count);

    /// <summary>The size of a <c>cpu_set_t</c> in bytes (1024 CPUs).</summary>
    public const int CpuSetSize = 128;

    /// <summary>The CPUs a thread may run on (<paramref name="tid"/> 0: the calling one), as a <c>cpu_set_t</c> of <see cref="CpuSetSize"/> bytes.</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int sched_getaffinity(int tid, nint size, byte* mask);

    /// <summary>Sets the CPUs a thread may run on (<paramref name="tid"/> 0: the calling one).</summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int sched_setaffinity(int tid, nint size, byte* mask);

    // recv and send take the descriptor itself and leave errno where it is: Recv and Send below hold the handle
    // around them and read errno only when a call failed. Blittable and without SetLastError, the JIT inlines the
    // call into its caller: no marshalling stub, no errno cleared and saved per call (four calls per proxied request).
    // Without the GC transition too (no switch to preemptive mode and back around the call): with
    // MSG_DONTWAIT neither call ever waits for the peer, so a GC that starts meanwhile waits for it as for any managed
    // code — a few microseconds, longer only when the kernel deschedules the thread inside the call.
    [LibraryImport("libc", EntryPoint = "recv")]
    [SuppressGCTransition]
    public static partial nint RawRecv(nint fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "send")]
    [SuppressGCTransition]
    public static partial nint RawSend(nint fd, byte* buffer, nint length, int flags);

    /// <summary>
    /// <c>recv</c> on <paramref name="handle"/>: the count, or -1 with <paramref name="errno"/> (EBADF when the handle
    /// was closed). The handle is held for the call, so that its descriptor cannot be closed and reused meanwhile.
    /// </summary>
    public static nint Recv(SafeSocketHandle handle, byte* buffer, nint length, int flags, out int errno) =>
        Call(handle, buffer, length, flags, send: false, out errno);

    /// <summary><c>send</c> on <paramref name="handle"/>, as <see cref="Recv"/>.</summary>
    public static nint Send(SafeSocketHandle handle, byte* buffer, nint length, int flags, out int errno) =>
        Call(handle, buffer, length, flags, send: true, out errno);

    private static nint Call(SafeSocketHandle handle, byte* buffer, nint length, int flags, bool send, out int errno)
    {
        var held = false;
        try
        {
            handle.DangerousAddRef(ref held);
        }
        catch (ObjectDisposedException)
        {
            errno = 9; // EBADF
            return -1;
        }

        // Outside any try: a native call cannot throw, and there the JIT inlines it.
        var fd = handle.DangerousGetHandle();
        var result = send ? RawSend(fd, buffer, length, flags) : RawRecv(fd, buffer, length, flags);
        errno = result < 0 ? Marshal.GetLastSystemError() : 0; // before anything else can call into the system
        handle.DangerousRelease();
        return result;
    }

    /// <summary>The <see cref="SocketError"/> of an errno from <c>recv</c> or <c>send</c>.</summary>
    public static SocketError ToSocketError(int errno) => errno switch
    {
        104 => SocketError.ConnectionReset, // ECONNRESET
        32 => SocketError.Shutdown, // EPIPE
        110 => SocketError.TimedOut, // ETIMEDOUT
        111 => SocketError.ConnectionRefused, // ECONNREFUSED
        9 => SocketError.OperationAborted, // EBADF: closed meanwhile
        113 => SocketError.HostUnreachable, // EHOSTUNREACH
        101 => SocketError.NetworkUnreachable, // ENETUNREACH
        _ => SocketError.SocketError,
    };
}
