using System.Net;
using Microsoft.Extensions.Configuration;
using Rampart.Proxy.Configuration;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Forwarding;

public sealed class RoutingTests
{
    [Fact]
    public async Task NoRouteMatches_404()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?>
        {
            ["Rampart:Routes:0:Match:Path"] = "/api/{**rest}",
        });

        using var outside = await f.Client.GetAsync("/elsewhere");
        using var inside = await f.Client.GetAsync("/api/items");

        Assert.Equal(HttpStatusCode.NotFound, outside.StatusCode);
        Assert.Equal(HttpStatusCode.OK, inside.StatusCode);
    }

    [Fact]
    public async Task HostLimitedRoute_MatchesOnlyThatHost()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?>
        {
            ["Rampart:Routes:0:Match:Hosts:0"] = "shop.example",
        });

        using var other = new HttpRequestMessage(HttpMethod.Get, "/");
        using var shop = new HttpRequestMessage(HttpMethod.Get, "/");
        shop.Headers.Host = "shop.example";

        Assert.Equal(HttpStatusCode.NotFound, (await f.Client.SendAsync(other)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await f.Client.SendAsync(shop)).StatusCode);
    }

    [Fact]
    public async Task ForwardedHeaders_AreAdded()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1);
        f.Backends[0].CaptureHeaders = true;

        using var request = new HttpRequestMessage(HttpMethod.Get, "/x");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        using var response = await f.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var headers = f.Backends[0].LastHeaders!;
        Assert.Equal("203.0.113.7, 127.0.0.1", headers["X-Forwarded-For"]);
        Assert.Equal("http", headers["X-Forwarded-Proto"]);
        Assert.Equal(f.Address.Authority, headers["X-Forwarded-Host"]);
    }

    [Fact]
    public void AdminOnNonLoopbackWithoutToken_IsRejected()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Rampart:Admin:Listen"] = "http://0.0.0.0:9901",
            ["Rampart:Routes:0:Id"] = "all",
            ["Rampart:Routes:0:Cluster"] = "web",
            ["Rampart:Clusters:web:Destinations:a:Address"] = "http://127.0.0.1:9001",
        }).Build();

        RampartConfiguration.Load(configuration, out var errors);

        Assert.Equal(["Rampart:Admin:Listen 'http://0.0.0.0:9901' is not a loopback address: set Rampart:Admin:Token to expose the admin endpoints beyond this machine"], errors);
    }
}
