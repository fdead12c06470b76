using Rampart.Async;
using Rampart.Failover;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>Parsed heads are reused: one per exchange in flight, not one per response (kept by the thread that parsed them).</summary>
internal static class ResponseHeadPool
{
    private static readonly ObjectPool<ResponseHead> Shared = new(Keeping.Shared);

    [ThreadStatic]
    private static KeptObjects<ResponseHead> t_kept;

    public static ResponseHead Rent() => t_kept.TryTake(Shared) ?? new ResponseHead();

    public static void Return(ResponseHead head) => t_kept.Return(head, Shared);
}
