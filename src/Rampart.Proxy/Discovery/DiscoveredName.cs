using System.Net;
using Rampart.Clusters;

namespace Rampart.Proxy.Discovery;

/// <summary>A name destinations are discovered from: the host of their address, and how it is asked.</summary>
internal readonly record struct DiscoveredName(DiscoveryMode Mode, string Host)
{
    public static DiscoveredName Of(DiscoveryMode mode, Uri address) => new(mode, address.IdnHost.ToLowerInvariant());
}

/// <summary>
/// What a name resolved to last, and when it is resolved again. A failed resolution keeps the last good endpoints
/// (<see cref="Error"/> says why, <see cref="FailingSince"/> since when); before the first success there are none.
/// </summary>
internal sealed record NameState(
    IReadOnlyList<IPEndPoint> Endpoints,
    DateTimeOffset? ResolvedAt,
    TimeSpan TimeToLive,
    string? Error,
    DateTimeOffset? FailingSince,
    int Failures,
    DateTimeOffset NextAt)
{
    public static NameState Due(DateTimeOffset now) => new([], null, TimeSpan.Zero, null, null, 0, now);
}
