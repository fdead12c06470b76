using System.Net;
using Rampart.Proxy.Tests.Adversarial;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Forwarding;

/// <summary>Headers by the RFCs: hop-by-hop headers stay on their hop; the forwarded headers follow the configured mode.</summary>
public sealed class HeaderTests
{
    // Kestrel reduces a Connection header that also carries keep-alive, close or upgrade to that option alone (the names
    // beside it never reach the application), so the names are listed alone here; README "Forwarded headers" says so.
    [Fact]
    public async Task ConnectionListedHeaders_NotForwarded_NorTheFixedHopByHopSet()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1);
        f.Backends[0].CaptureHeaders = true;

        var answer = await RawHttp.SendAsync(f.Address,
            "GET /x HTTP/1.1\r\nHost: a\r\nConnection: X-Secret, x-other\r\nX-Secret: 1\r\nX-Other: 2\r\nX-Kept: 3\r\n"
            + "Keep-Alive: timeout=5\r\nProxy-Authorization: Basic c2VjcmV0\r\nProxy-Connection: keep-alive\r\n\r\n");

        Assert.Equal(200, answer.Status);
        var seen = f.Backends[0].LastHeaders!;
        Assert.Equal("3", seen["X-Kept"]);
        foreach (var name in new[] { "X-Secret", "X-Other", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection" })
        {
            Assert.False(seen.ContainsKey(name), $"{name} reached the destination");
        }
    }

    [Fact]
    public async Task ConnectionListedHeaders_OfTheResponse_NotPassedToTheClient()
    {
        await using var raw = new RawBackend("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: X-Internal\r\nX-Internal: secret\r\n"
            + "Proxy-Authenticate: Basic\r\nX-Public: yes\r\n\r\nok");
        await using var f = await ProxyFixture.StartAsync(backends: 0, settings: new Dictionary<string, string?>
        {
            ["Rampart:Clusters:web:Destinations:raw:Address"] = raw.Address.ToString(),
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
        });

        using var response = await f.Client.GetAsync("/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.Contains("X-Public"));
        Assert.False(response.Headers.Contains("X-Internal"));
        Assert.False(response.Headers.Contains("Proxy-Authenticate"));
    }

    [Theory]
    [InlineData("Append", "XForwarded", "6.6.6.6, 127.0.0.1", "for=6.6.6.6")]
    [InlineData("Replace", "XForwarded", "127.0.0.1", null)]
    [InlineData("Off", "XForwarded", "6.6.6.6", "for=6.6.6.6")]
    [InlineData("Append", "Both", "6.6.6.6, 127.0.0.1", "for=6.6.6.6, for=127.0.0.1;proto=http;host=\"a:81\"")]
    [InlineData("Replace", "Forwarded", null, "for=127.0.0.1;proto=http;host=\"a:81\"")]
    [InlineData("Append", "Forwarded", "6.6.6.6", "for=6.6.6.6, for=127.0.0.1;proto=http;host=\"a:81\"")]
    public async Task ForwardedHeaders_EachMode(string mode, string format, string? xForwardedFor, string? forwarded)
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?>
        {
            ["Rampart:ForwardedHeaders"] = mode,
            ["Rampart:ForwardedHeadersFormat"] = format,
        });
        f.Backends[0].CaptureHeaders = true;

        var answer = await RawHttp.SendAsync(f.Address, "GET /x HTTP/1.1\r\nHost: a:81\r\nX-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\n\r\n");

        Assert.Equal(200, answer.Status);
        var seen = f.Backends[0].LastHeaders!;
        Assert.Equal(xForwardedFor, seen.GetValueOrDefault("X-Forwarded-For"));
        Assert.Equal(forwarded, seen.GetValueOrDefault("Forwarded"));
        if (mode != "Off" && format != "Forwarded")
        {
            Assert.Equal("a:81", seen["X-Forwarded-Host"]);
            Assert.Equal("http", seen["X-Forwarded-Proto"]);
        }
    }

    [Fact]
    public async Task ForwardedHeaders_RequestWithoutHost_NoEmptyForwardedHost()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?> { ["Rampart:ForwardedHeadersFormat"] = "Both" });
        f.Backends[0].CaptureHeaders = true;

        var answer = await RawHttp.SendAsync(f.Address, "GET /old HTTP/1.0\r\n\r\n");

        Assert.Equal(200, answer.Status);
        var seen = f.Backends[0].LastHeaders!;
        Assert.False(seen.ContainsKey("X-Forwarded-Host"));
        Assert.Equal("for=127.0.0.1;proto=http", seen["Forwarded"]);
    }
}
