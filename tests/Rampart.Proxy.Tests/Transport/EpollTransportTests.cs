using Microsoft.Extensions.DependencyInjection;
using Rampart.Proxy.Admin;
using Rampart.Proxy.Server;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Transport;

/// <summary>
/// A proxy with <c>Rampart:Server:Transport: Epoll</c> binds its listener on the epoll loops (and says so in
/// <c>/status</c>), as it does by default (<c>Auto</c>) on Linux x64; with <c>Sockets</c> it stays on Kestrel's
/// sockets. (The whole suite runs on one transport with <c>RAMPART_TEST_TRANSPORT</c>.)
/// </summary>
public sealed class EpollTransportTests
{
    [Fact]
    public async Task WithTheOption_TheListenerRunsOnTheLoops_AndStatusSaysSo()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?>
        {
            ["Rampart:Server:Transport"] = "Epoll",
            ["Rampart:Clusters:web:Forwarder"] = "Fast",
        });

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("ok from b0", await f.Client.GetStringAsync($"/get/{i}"));
        }

        Assert.Equal("Epoll", StatusDocument.From(f.Proxy, TimeProvider.System).Server!.Transport);
        Assert.Equal(5, f.Services.GetRequiredService<FastServer>().Served);
    }

    [Fact]
    public async Task Auto_TheLoopsWhereTheyRun_AndRampartsOwnPathWhereItCarriesTheCluster()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?>
        {
            ["Rampart:Server:Transport"] = "Auto",
            ["Rampart:Clusters:web:Forwarder"] = "Auto",
        });

        Assert.Equal("ok from b0", await f.Client.GetStringAsync("/get/1"));
        var status = StatusDocument.From(f.Proxy, TimeProvider.System);
        Assert.Equal(Rampart.Proxy.Transport.EpollNative.IsSupported ? "Epoll" : "Sockets", status.Server!.Transport);
        Assert.Equal("Fast", status.Clusters.Single().Forwarder); // HTTP/1.1 to an http:// backend
        Assert.Equal(1, f.Services.GetRequiredService<FastServer>().Served);
    }

    [Fact]
    public async Task ByDefault_TheLoopsWhereTheyRun_AndRampartsOwnPath()
    {
        if (Environment.GetEnvironmentVariable("RAMPART_TEST_TRANSPORT") is { Length: > 0 } || Environment.GetEnvironmentVariable("RAMPART_TEST_FORWARDER") is { Length: > 0 })
        {
            return; // the suite runs on a transport or data path named for the whole run
        }

        await using var f = await ProxyFixture.StartAsync(backends: 1);

        Assert.Equal("ok from b0", await f.Client.GetStringAsync("/get/1"));
        var status = StatusDocument.From(f.Proxy, TimeProvider.System);
        Assert.Equal(Rampart.Proxy.Transport.EpollNative.IsSupported ? "Epoll" : "Sockets", status.Server!.Transport);
        Assert.Equal("Fast", status.Clusters.Single().Forwarder);
    }

    [Fact]
    public async Task AskedForSockets_KestrelsSocketsServe()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?> { ["Rampart:Server:Transport"] = "Sockets" });

        Assert.Equal("ok from b0", await f.Client.GetStringAsync("/get/1"));
        Assert.Equal("Sockets", StatusDocument.From(f.Proxy, TimeProvider.System).Server!.Transport);
    }
}
