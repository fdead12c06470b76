using System.Net;
using System.Text;
using Rampart.Proxy.Tests.Adversarial;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Forwarding.Fast;

/// <summary>
/// <c>Clusters:ID:Forwarder: Fast</c> end to end against real Kestrel backends and raw sockets: connections reused only
/// after a whole exchange, bodies of every framing both ways, and every ambiguous answer a 502 that counts against the
/// destination. (The whole suite runs on the fast path with <c>RAMPART_TEST_FORWARDER=Fast</c>.)
/// </summary>
public sealed class FastPathTests
{
    private static readonly Dictionary<string, string?> Fast = new() { ["Rampart:Clusters:web:Forwarder"] = "Fast" };

    private static Dictionary<string, string?> With(params (string Key, string? Value)[] more)
    {
        var settings = new Dictionary<string, string?>(Fast);
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    [Fact]
    public async Task KeepAlive_ManyRequestsOverFewConnections_BodiesBothWays()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: Fast);
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal("ok from b0", await f.Client.GetStringAsync($"/get/{i}"));
        }

        using (var posted = await f.Client.PostAsync("/post", new StringContent("a body of known length")))
        {
            posted.EnsureSuccessStatusCode();
        }

        using var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("a body of unknown length")));
        (await f.Client.PostAsync("/post", chunked)).EnsureSuccessStatusCode(); // no Content-Length: chunked both hops

        Assert.Equal(["a body of known length", "a body of unknown length"], f.Backends[0].Bodies);
        var connections = f.Backends[0].Seen.Select(s => s.Connection).Distinct().Count();
        Assert.True(connections <= 3, $"{connections} connections for 202 sequential requests: not reused");
        Assert.Equal("Fast", f.Cluster.Options.Forwarder);
    }

    [Fact]
    public async Task LargeBody_StreamsThroughIntact()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: Fast);
        f.Backends[0].Mode = BackendMode.Large;
        var body = await f.Client.GetByteArrayAsync("/large");
        Assert.Equal(16 * 1024 * 1024, body.Length);
    }

    [Fact]
    public async Task DestinationThatClosesAfterEachResponse_EveryRequestServed()
    {
        // No keep-alive on the destination's side: each pooled connection is found closed and a fresh one made.
        await using var raw = new RawBackend("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await using var f = await ProxyFixture.StartAsync(backends: 0, settings: With(
            ("Rampart:Clusters:web:Destinations:raw:Address", raw.Address.ToString()),
            ("Rampart:Clusters:web:HealthCheck:Active:Enabled", "false")));
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal("ok", await f.Client.GetStringAsync($"/{i}"));
        }

        Assert.Equal(0, f.Cluster.Destinations.Single().Failures);
    }

    public static TheoryData<string> Ambiguous =>
    [
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 2\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nX-Space : a\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok",
        "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ];

    [Theory]
    [MemberData(nameof(Ambiguous))]
    public async Task AmbiguousAnswer_Is502_AndCountsAgainstTheDestination(string answer)
    {
        await using var raw = new RawBackend(answer);
        await using var f = await ProxyFixture.StartAsync(backends: 0, settings: With(
            ("Rampart:Clusters:web:Destinations:raw:Address", raw.Address.ToString()),
            ("Rampart:Clusters:web:HealthCheck:Active:Enabled", "false")));

        using var response = await f.Client.GetAsync("/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(1, f.Cluster.Destinations.Single().Failures);
    }

    [Fact]
    public async Task FailoverOnTheFastPath_KilledBackend_NoClientErrors()
    {
        await using var f = await ProxyFixture.StartAsync(settings: Fast);
        await f.Backends[1].StopAsync();
        for (var i = 0; i < 30; i++)
        {
            using var response = await f.Client.GetAsync($"/{i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // a refused connection is retried on another destination
        }
    }
}
