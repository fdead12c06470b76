using Rampart.Async;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>Parsed heads are reused: one per exchange in flight, not one per response (kept by the thread that parsed them).</summary>
internal static class ResponseHeadPool
{
    [ThreadStatic]
    private static KeptObjects<ResponseHead> t_kept;

    public static ResponseHead Rent() => t_kept.TryTake() ?? new ResponseHead();

    public static void Return(ResponseHead head) => t_kept.Return(head);
}
