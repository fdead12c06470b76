using Rampart.Failover;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>Parsed heads are reused: one per exchange in flight, not one per response.</summary>
internal static class ResponseHeadPool
{
    private static readonly ObjectPool<ResponseHead> Pool = new(Environment.ProcessorCount * 64);

    public static ResponseHead Rent() => Pool.TryTake() ?? new ResponseHead();

    public static void Return(ResponseHead head) => Pool.Return(head);
}
