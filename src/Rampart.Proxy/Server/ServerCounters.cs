namespace Rampart.Proxy.Server;

/// <summary>
/// What Rampart's own HTTP/1.1 server did, for <c>/status</c>: requests it served, connections it handed to Kestrel's
/// server; and the transport its listeners run on.
/// </summary>
internal sealed class ServerCounters
{
    private volatile string _transport = nameof(Configuration.ServerTransport.Sockets);

    private long _served;
    private long _handedOff;

    public long Served => Interlocked.Read(ref _served);

    /// <summary>The transport the listeners were bound with (set by the epoll transport when it binds).</summary>
    public string Transport
    {
        get => _transport;
        set => _transport = value;
    }

    /// <summary>On the epoll transport, whether its loops run each pinned to a CPU (<c>Rampart:Server:PinLoops</c>); null on sockets.</summary>
    public bool? LoopsPinned => _transport == nameof(Configuration.ServerTransport.Epoll) ? Rampart.Proxy.Transport.EventLoop.ArePinned : null;

    public long HandedOff => Interlocked.Read(ref _handedOff);

    public void CountServed() => Interlocked.Increment(ref _served);

    public void CountHandedOff() => Interlocked.Increment(ref _handedOff);
}
