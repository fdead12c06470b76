namespace Rampart.Proxy.Server;

/// <summary>What Rampart's own HTTP/1.1 server did, for <c>/status</c>: requests it served, connections it handed to Kestrel's server.</summary>
internal sealed class ServerCounters
{
    private long _served;
    private long _handedOff;

    public long Served => Interlocked.Read(ref _served);

    public long HandedOff => Interlocked.Read(ref _handedOff);

    public void CountServed() => Interlocked.Increment(ref _served);

    public void CountHandedOff() => Interlocked.Increment(ref _handedOff);
}
