using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Proxy;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps Rampart's routes.</summary>
public static class RampartEndpointRouteBuilderExtensions
{
    /// <summary>Maps every configured route to its cluster's forwarder; a configuration reload replaces them (new requests only).</summary>
    public static IEndpointRouteBuilder MapRampart(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var proxy = endpoints.ServiceProvider.GetRequiredService<RampartProxy>();
        endpoints.DataSources.Add(new RampartEndpointDataSource(proxy));
        return endpoints;
    }
}
