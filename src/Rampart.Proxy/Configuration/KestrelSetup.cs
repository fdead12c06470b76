using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Rampart.Proxy.Configuration;

/// <summary>The proxy's own server, set up from its options: one place for the executable and <see cref="RampartProxyServer"/>.</summary>
internal static class KestrelSetup
{
    /// <summary>Applies <c>Rampart:Limits</c> and <c>Rampart:Server</c> to Kestrel.</summary>
    public static void Apply(KestrelServerOptions kestrel, RampartOptions options)
    {
        kestrel.AddServerHeader = false; // the destination's own Server header passes through
        var limits = options.Limits;
        kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodySize == 0 ? null : limits.MaxRequestBodySize;
        kestrel.Limits.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalSize;
        kestrel.Limits.MaxRequestHeaderCount = limits.MaxRequestHeaderCount;
        kestrel.Limits.MaxRequestLineSize = limits.MaxRequestLineSize;
        kestrel.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
        kestrel.Limits.MinRequestBodyDataRate = limits.MinRequestBodyDataRate == 0
            ? null
            : new MinDataRate(limits.MinRequestBodyDataRate, limits.MinRequestBodyDataRateGracePeriod);
    }
}
