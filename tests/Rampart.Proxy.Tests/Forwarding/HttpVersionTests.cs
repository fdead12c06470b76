using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Rampart.Health;
using Rampart.Proxy.Admin;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Forwarding;

/// <summary><c>Clusters:ID:HttpVersion</c>: HTTP/2 to destinations that speak it, one multiplexed connection each, probes included.</summary>
public sealed class HttpVersionTests
{
    [Fact]
    public async Task HttpVersion2_H2cOnlyBackends_ProbedHealthy_ServedOverOneConnectionEach()
    {
        await using var f = await ProxyFixture.StartAsync(
            settings: new Dictionary<string, string?> { ["Rampart:Clusters:web:HttpVersion"] = "2", ["Rampart:Clusters:web:Forwarder"] = "Yarp" },
            protocols: HttpProtocols.Http2);
        foreach (var d in f.Cluster.Destinations)
        {
            await Wait.ForActiveStateAsync(d, ActiveHealthState.Healthy); // the probes speak HTTP/2 too
        }

        var load = new Load(f.Client);
        await load.RunAsync(300, workers: 8);

        Assert.Empty(load.Errors);
        Assert.Equal(3, load.ServedBy.Count);
        foreach (var backend in f.Backends)
        {
            Assert.All(backend.Seen, s => Assert.Equal("HTTP/2", s.Protocol));
            Assert.Equal(["HTTP/2"], backend.ProbeProtocols.Keys);
            // Eight clients' requests multiplexed on one connection per destination (HTTP/1.1 needs one per request in flight).
            Assert.Single(backend.Seen.Select(s => s.Connection).Distinct());
        }

        await using var admin = await RampartAdminServer.StartAsync(f.Proxy, TimeProvider.System, "http://127.0.0.1:0");
        using var client = new HttpClient { BaseAddress = admin.Address };
        using var status = JsonDocument.Parse(await client.GetStringAsync("/status"));
        Assert.Equal("2.0", status.RootElement.GetProperty("clusters")[0].GetProperty("httpVersion").GetString());
    }

    [Fact]
    public async Task DefaultHttpVersion_H2cOnlyBackends_ProbesFind_AndClientsGet503WithRetryAfter()
    {
        await using var f = await ProxyFixture.StartAsync(protocols: HttpProtocols.Http2);
        foreach (var d in f.Cluster.Destinations)
        {
            await Wait.ForActiveStateAsync(d, ActiveHealthState.Unhealthy); // HTTP/1.1 probes to HTTP/2-only servers fail
        }

        using var response = await f.Client.GetAsync("/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.All(f.Backends, b => Assert.Empty(b.Seen));
    }

    [Fact]
    public async Task HttpVersion2_Http1Clients_StillGetHttp11Responses_WithBodiesAndPosts()
    {
        await using var f = await ProxyFixture.StartAsync(
            backends: 1,
            settings: new Dictionary<string, string?> { ["Rampart:Clusters:web:HttpVersion"] = "2", ["Rampart:Clusters:web:Forwarder"] = "Yarp" },
            protocols: HttpProtocols.Http2);

        using var get = await f.Client.GetAsync("/x");
        using var post = await f.Client.PostAsync("/x", new StringContent("payload over h2"));

        Assert.Equal(HttpVersion.Version11, get.Version);
        Assert.Equal("ok from b0", await get.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal(["payload over h2"], f.Backends[0].Bodies);
    }

    [Fact]
    public async Task HttpVersion2_BackendKilledMidLoad_ItsInFlightStreamsFailOver_NoClientErrors_TrafficComesBack()
    {
        // One connection carries every request in flight to a destination: killing it fails them all at once.
        await using var f = await ProxyFixture.StartAsync(
            settings: new Dictionary<string, string?> { ["Rampart:Clusters:web:HttpVersion"] = "2", ["Rampart:Clusters:web:Forwarder"] = "Yarp" },
            protocols: HttpProtocols.Http2);
        var load = new Load(f.Client);
        await load.RunAsync(200, workers: 8);

        var killed = f.Backends[1].StopAsync();
        await load.RunUntilAsync(Task.WhenAll(killed, Wait.ForActiveAsync(f.Destination(1), ActiveHealthState.Unhealthy)), workers: 8);
        await load.RunAsync(300, workers: 8);
        var servedWhileDown = load.ServedBy.GetValueOrDefault("b1");

        var back = Wait.ForActiveAsync(f.Destination(1), ActiveHealthState.Healthy);
        await f.Backends[1].RestartAsync();
        await load.RunUntilAsync(back, workers: 8);
        await load.RunAsync(300, workers: 8);

        Assert.Empty(load.Errors);
        Assert.True(load.ServedBy.GetValueOrDefault("b1") > servedWhileDown, "the restarted backend got no traffic back: " + string.Join(" | ", f.Destination(1).GetTransitions().Select(t => $"{t.At:HH:mm:ss.fff} {t.Signal} {t.From}->{t.To}: {t.Reason}")) + $" avail={f.Destination(1).IsAvailable}");
    }
}
