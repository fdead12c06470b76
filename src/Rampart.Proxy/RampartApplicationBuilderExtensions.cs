using Microsoft.Extensions.DependencyInjection;
using Rampart.Proxy;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Rampart's direct path for an application that is only a proxy.</summary>
public static class RampartApplicationBuilderExtensions
{
    /// <summary>
    /// While the configuration is a single route that matches every request (any host, any method,
    /// <c>/{**catch-all}</c>), forwards each request straight to its cluster, without routing's per-request
    /// work; otherwise (and after a reload that changes that) passes requests on. Call it before
    /// <c>UseRouting</c>, in an application whose only endpoints are <see cref="RampartEndpointRouteBuilderExtensions.MapRampart"/>'s:
    /// while it forwards everything, no other endpoint of the application is reached.
    /// </summary>
    public static IApplicationBuilder UseRampartDirectPath(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var proxy = app.ApplicationServices.GetRequiredService<RampartProxy>();
        return app.Use(next => context => proxy.EverythingForwarder is { } forwarder ? forwarder.ForwardAsync(context) : next(context));
    }
}
