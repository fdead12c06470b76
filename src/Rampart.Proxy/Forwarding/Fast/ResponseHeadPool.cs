using Rampart.Async;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>Parsed heads are reused: one per exchange in flight, not one per response (kept by the thread that parsed them).</summary>
internal static class ResponseHeadPool
{
    public static ResponseHead Rent() => Kept<ResponseHead>.TryTake() ?? new ResponseHead();

    public static void Return(ResponseHead head) => Kept<ResponseHead>.Return(head);
}
