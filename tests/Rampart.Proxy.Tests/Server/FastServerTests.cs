using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Proxy.Admin;
using Rampart.Proxy.Server;
using Rampart.Proxy.Tests.Adversarial;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Server;

/// <summary>
/// Rampart's own HTTP/1.1 server (<c>Forwarder: Fast</c> behind one catch-all route): what it serves itself, and how a
/// connection goes on in Kestrel's server at the first request it does not take, on raw sockets. (Every end-to-end test
/// runs through it with <c>RAMPART_TEST_FORWARDER=Fast</c>.)
/// </summary>
public sealed class FastServerTests
{
    private static readonly Dictionary<string, string?> Fast = new() { ["Rampart:Clusters:web:Forwarder"] = "Fast" };

    [Fact]
    public async Task RequestsWithoutABody_ServedByRampartsServer()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: Fast);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("ok from b0", await f.Client.GetStringAsync($"/get/{i}"));
        }

        var server = f.Services.GetRequiredService<FastServer>();
        Assert.Equal(20, server.Served);
        Assert.Equal(0, server.HandedOff);
        var transport = Environment.GetEnvironmentVariable("RAMPART_TEST_TRANSPORT") is { Length: > 0 } t ? t : Rampart.Proxy.Transport.EpollNative.IsSupported ? "Epoll" : "Sockets";
        Assert.Equal(new ServerStatus(20, 0, null, transport, transport == "Epoll" ? false : null), StatusDocument.From(f.Proxy, TimeProvider.System).Server); // what /status shows
    }

    [Fact]
    public async Task Pipelined_TwoRequestsInOneWrite_TwoResponsesInOrder_ThenClosed()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: Fast);
        var responses = await ExchangeAsync(f.Address,
            "GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        Assert.Equal(2, Count(responses, "HTTP/1.1 200 OK\r\n"));
        Assert.Equal(1, Count(responses, "Connection: close\r\n")); // the second only; then the server closed (the read ended)
        Assert.Equal(["/first", "/second"], f.Backends[0].Paths);
        Assert.Equal(2, f.Services.GetRequiredService<FastServer>().Served);
    }

    [Fact]
    public async Task ContentLengthBodies_Pipelined_EachBodyEndsWhereItsLengthSays()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: Fast);
        var responses = await ExchangeAsync(f.Address,
            "POST /one HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            + "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nGET / HTTP/"
            + "GET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        Assert.Equal(3, Count(responses, "HTTP/1.1 200 OK\r\n"));
        Assert.Equal(["hello", "GET / HTTP/"], f.Backends[0].Bodies); // a body that looks like a request is a body
        Assert.Equal(["/one", "/two", "/three"], f.Backends[0].Paths);
        Assert.Equal(3, f.Services.GetRequiredService<FastServer>().Served);
    }

    [Fact]
    public async Task ABodySentSlowerThanTheMinimumDataRate_408_NoDestinationBlamed()
    {
        // The destination would wait a minute for the body: only the server's data rate ends it (heartbeat, 1 s steps).
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?>(Fast)
        {
            ["Rampart:Limits:MinRequestBodyDataRate"] = "1000",
            ["Rampart:Limits:MinRequestBodyDataRateGracePeriod"] = "00:00:01.500",
            ["Rampart:Clusters:web:AttemptTimeout"] = "00:01:00",
            ["Rampart:Clusters:web:Timeout"] = "00:02:00",
        });
        Assert.Equal("ok from b0", await f.Client.GetStringAsync("/warm"));

        var response = await RawHttp.SendAsync(f.Address, "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nten bytes.");

        Assert.Equal(408, response.Status);
        Assert.Contains("Connection: close", response.Head, StringComparison.Ordinal);
        Assert.Equal(2, f.Services.GetRequiredService<FastServer>().Served); // the rate was Rampart's server's to enforce
        await ClientAttackTests.AssertNoDestinationBlamedAsync(f);
    }

    [Fact]
    public async Task AnIdleConnection_ClosedAfterTheKeepAliveTimeout_ByRampartsServer()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?>(Fast) { ["Rampart:Limits:KeepAliveTimeout"] = "00:00:01" });
        using var socket = await OpenAsync(f.Address, "GET /once HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(200, (await RawHttp.ReadHeadAsync(socket)).Status);

        // Then nothing: Kestrel's heartbeat (once a second) finds the connection idle past the timeout and ends it.
        using var timeout = new CancellationTokenSource(Wait.Generous);
        var buffer = new byte[1024];
        while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
        {
        }

        Assert.Equal(1, f.Services.GetRequiredService<FastServer>().Served);
        Assert.Equal(0, f.Services.GetRequiredService<FastServer>().HandedOff); // closed by Rampart's server, not handed to Kestrel's
    }

    [Fact]
    public async Task ExpectContinue_100WhenTheBodyIsWanted_ThenTheAnswer()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: Fast);
        using var socket = await OpenAsync(f.Address, "POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");

        Assert.Equal(100, (await RawHttp.ReadHeadAsync(socket)).Status); // the body is not sent before this
        await socket.SendAsync(Encoding.ASCII.GetBytes("hello"), SocketFlags.None);
        Assert.Equal(200, (await RawHttp.ReadHeadAsync(socket)).Status);
        Assert.Equal(["hello"], f.Backends[0].Bodies);
        Assert.Equal(1, f.Services.GetRequiredService<FastServer>().Served);
    }

    [Fact]
    public async Task AChunkedBody_ServedByRampartsServer_DecodedAndChunkedAfresh_TheConnectionGoesOn()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: Fast);
        var responses = await ExchangeAsync(f.Address,
            "GET /before HTTP/1.1\r\nHost: x\r\n\r\n"
            + "POST /post HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: dropped\r\n\r\n"
            + "POST /post HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            + "GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        Assert.Equal(4, Count(responses, "HTTP/1.1 200 OK\r\n"));
        Assert.Equal(["hello 0123456789", ""], f.Backends[0].Bodies);
        var server = f.Services.GetRequiredService<FastServer>();
        Assert.Equal(4, server.Served); // every request, on Rampart's own server
        Assert.Equal(0, server.HandedOff);
    }

    [Fact]
    public async Task AChunkedBody_ArrivingByteByByte_IsWholeAtTheDestination()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: Fast);
        using var socket = await OpenAsync(f.Address, "POST /post HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        foreach (var b in Encoding.ASCII.GetBytes("3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\n"))
        {
            await socket.SendAsync(new[] { b }, SocketFlags.None); // every framing part split across reads
        }

        Assert.Equal(200, (await RawHttp.ReadHeadAsync(socket)).Status);
        Assert.Equal(["abc0123456789abcdef"], f.Backends[0].Bodies);
        Assert.Equal(1, f.Services.GetRequiredService<FastServer>().Served);
    }

    [Fact]
    public async Task AWebSocket_TunnelledByRampartsServer_BothWays_UntilItCloses()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: Fast);
        using (var socket = new System.Net.WebSockets.ClientWebSocket())
        {
            await socket.ConnectAsync(new Uri($"ws://{f.Address.Host}:{f.Address.Port}/ws"), CancellationToken.None);
            var buffer = new byte[64];
            for (var i = 0; i < 3; i++)
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes($"hello {i}"), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);
                var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
                Assert.Equal($"hello {i}", Encoding.UTF8.GetString(buffer, 0, received.Count));
            }

            await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            Assert.Equal(System.Net.WebSockets.WebSocketState.Closed, socket.State);
        }

        Assert.Equal(0, f.Services.GetRequiredService<FastServer>().HandedOff); // Rampart's server carried it, not Kestrel's
        Assert.Equal(0, f.Destination(0).Failures);
    }

    [Theory]
    [InlineData("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n")] // no Connection: upgrade
    [InlineData("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")]
    [InlineData("POST /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 2\r\n\r\nhi")]
    public async Task AnUpgradeItDoesNotCarry_GoesOnInKestrelsServer(string request)
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: Fast);
        await RawHttp.SendAsync(f.Address, request);

        Assert.Equal(0, f.Services.GetRequiredService<FastServer>().Served);
        Assert.Equal(1, f.Services.GetRequiredService<FastServer>().HandedOff);
    }

    [Theory]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", 400)]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400)]
    [InlineData("GET /a HTTP/1.1\r\n\r\n", 400)]
    [InlineData("GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n", 200)]
    [InlineData("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405)]
    [InlineData("GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200)]
    [InlineData("GET / HTTP/1.0\r\n\r\n", 200)]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0)]
    public async Task WhatItDoesNotTake_KestrelAnswers_NoDestinationBlamed(string request, int status)
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: Fast);
        var response = await RawHttp.SendAsync(f.Address, request);

        Assert.Equal(status, response.Status);
        Assert.Equal(0, f.Services.GetRequiredService<FastServer>().Served);
        Assert.Equal(1, f.Services.GetRequiredService<FastServer>().HandedOff);
        await ClientAttackTests.AssertNoDestinationBlamedAsync(f);
    }

    [Fact]
    public async Task AConnectionHandedToKestrel_GoesOnInKestrelsLogScope()
    {
        // Rampart's server serves its requests outside Kestrel's connection log scope (nothing of it is needed there, and
        // resuming a request's methods then switches no context); a connection it hands on gets the scope back.
        var logs = new LogCapture();
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: Fast, logs: logs);
        var response = await RawHttp.SendAsync(f.Address, "GET / HTTP/1.0\r\n\r\n"); // HTTP/1.0: Kestrel's server answers

        Assert.Equal(200, response.Status);
        Assert.Equal(1, f.Services.GetRequiredService<FastServer>().HandedOff);
        var starting = await logs.WaitForAsync(e => e.Category == "Microsoft.AspNetCore.Hosting.Diagnostics" && e.Message.StartsWith("Request starting", StringComparison.Ordinal));
        Assert.Contains(starting.Scopes, s => s.StartsWith("ConnectionId:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SwitchedOff_KestrelServesEverything()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?>(Fast) { ["Rampart:Server:FastServer"] = "false" });
        Assert.Equal("ok from b0", await f.Client.GetStringAsync("/get"));
        Assert.Equal(0, f.Services.GetRequiredService<FastServer>().Served);
    }

    [Fact]
    public async Task MoreThanOneRoute_KestrelServesEverything()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?>(Fast)
        {
            ["Rampart:Routes:0:Match:Path"] = "/api/{**rest}",
            ["Rampart:Routes:1:Id"] = "other",
            ["Rampart:Routes:1:Cluster"] = "web",
            ["Rampart:Routes:1:Match:Path"] = "/other/{**rest}",
        });
        Assert.Equal("ok from b0", await f.Client.GetStringAsync("/api/x"));
        Assert.Equal(0, f.Services.GetRequiredService<FastServer>().Served);
    }

    // A connection to the proxy that has sent a request's head.
    private static async Task<Socket> OpenAsync(Uri address, string head)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(address.Host, address.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(head), SocketFlags.None);
        return socket;
    }

    // Sends the bytes, then reads until the server closes the connection.
    private static async Task<string> ExchangeAsync(Uri address, string requests)
    {
        using var socket = await OpenAsync(address, requests);
        using var timeout = new CancellationTokenSource(Wait.Generous);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) is var read and > 0)
        {
            received.Write(buffer, 0, read);
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }

    private static int Count(string text, string part) => (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;
}
