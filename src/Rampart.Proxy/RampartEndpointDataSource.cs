using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;

namespace Rampart.Proxy;

/// <summary>The proxy's routes as endpoints; a reload swaps them and signals routing to rebuild its matcher.</summary>
internal sealed class RampartEndpointDataSource(RampartProxy proxy) : EndpointDataSource
{
    public override IReadOnlyList<Endpoint> Endpoints => proxy.Endpoints;

    public override IChangeToken GetChangeToken() => proxy.GetChangeToken();
}
