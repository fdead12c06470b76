using System.Net;
using Microsoft.Extensions.Configuration;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Forwarding;

/// <summary>Clients that speak HTTP/2 without TLS (gRPC, curl --http2-prior-knowledge) on a listener set to Http2.</summary>
public sealed class ListenerProtocolsTests
{
    [Fact]
    public async Task Http2Listener_PriorKnowledgeClient_Served_Http1ListenerBeside_StillServesHttp11()
    {
        await using var backend = await TestBackend.StartAsync("b0");
        var settings = ProxyFixture.DefaultSettings([backend]);
        settings["Rampart:Listen:0"] = "http://127.0.0.1:0";
        settings["Rampart:Listeners:0:Url"] = "http://127.0.0.1:0";
        settings["Rampart:Listeners:0:Protocols"] = "Http2";
        await using var server = await RampartProxyServer.StartAsync(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        var addresses = server.Addresses;
        Assert.Equal(2, addresses.Count);

        using var h2c = new HttpClient(new SocketsHttpHandler { UseProxy = false })
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var h1 = new HttpClient(new SocketsHttpHandler { UseProxy = false });

        using var overH2 = await h2c.GetAsync(new Uri(addresses[1], "/grpc-like"));
        using var overH1 = await h1.GetAsync(new Uri(addresses[0], "/plain"));

        Assert.Equal(HttpStatusCode.OK, overH2.StatusCode);
        Assert.Equal(HttpVersion.Version20, overH2.Version);
        Assert.Equal("ok from b0", await overH2.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, overH1.StatusCode);
        Assert.Equal(HttpVersion.Version11, overH1.Version);
    }
}
