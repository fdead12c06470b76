using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Proxy;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps Rampart's routes.</summary>
public static class RampartEndpointRouteBuilderExtensions
{
    /// <summary>Maps every configured route to its cluster's forwarder.</summary>
    public static IEndpointRouteBuilder MapRampart(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var proxy = endpoints.ServiceProvider.GetRequiredService<RampartProxy>();
        foreach (var route in proxy.Options.Routes)
        {
            var forwarder = proxy.GetForwarder(route.Cluster);
            var builder = endpoints.Map(route.Match.Path, forwarder.ForwardAsync).WithDisplayName("rampart route " + route.Id);
            if (route.Match.Hosts.Count > 0)
            {
                builder.RequireHost([.. route.Match.Hosts]);
            }

            if (route.Match.Methods.Count > 0)
            {
                builder.WithMetadata(new HttpMethodMetadata([.. route.Match.Methods]));
            }
        }

        return endpoints;
    }
}
