using System.Net.WebSockets;
using System.Text;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Adversarial;

/// <summary>Upgraded connections (WebSockets): a client that drops one is not the destination's failure; a destination that drops one is.</summary>
public sealed class UpgradeTests
{
    [Fact]
    public async Task ClientDropsItsWebSocket_50Times_NoDestinationIsBlamed()
    {
        await using var f = await ProxyFixture.StartAsync(settings: AttackCatalog.Settings);
        for (var i = 0; i < 50; i++)
        {
            using var socket = await ConnectAsync(f);
            Assert.Equal("hello", await EchoAsync(socket, "hello")); // through the proxy and back
            socket.Abort(); // no close handshake: the connection just goes
        }

        await ClientAttackTests.AssertNoDestinationBlamedAsync(f);
    }

    [Fact]
    public async Task DestinationDropsTheWebSocket_CountsAgainstIt()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?>
        {
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
            ["Rampart:Clusters:web:HealthCheck:Passive:ConsecutiveFailures"] = "1", // the one failure shows as an ejection
        });
        using var socket = await ConnectAsync(f);
        var ejected = Wait.ForTransitionAsync(f.Destination(0), t => t.Signal == Rampart.Destinations.HealthSignal.Passive);

        await socket.SendAsync(Encoding.UTF8.GetBytes("die"), WebSocketMessageType.Text, true, CancellationToken.None);
        await Assert.ThrowsAnyAsync<WebSocketException>(() => socket.ReceiveAsync(new byte[16], CancellationToken.None).WaitAsync(Wait.Generous));

        Assert.Contains("Upgrade", (await ejected).Reason, StringComparison.Ordinal);
        Assert.Equal(1, f.Destination(0).Failures);
    }

    [Fact]
    public async Task IdleWebSocket_ClosedAfterTheActivityTimeout_NobodyBlamed()
    {
        var logs = new LogCapture();
        await using var f = await ProxyFixture.StartAsync(backends: 1, logs: logs, settings: new Dictionary<string, string?>
        {
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
            ["Rampart:Clusters:web:AttemptTimeout"] = "00:00:00.500", // also the idle limit of an upgraded connection
            ["Rampart:Clusters:web:Timeout"] = "00:00:05",
        });
        using var socket = await ConnectAsync(f);
        Assert.Equal("hello", await EchoAsync(socket, "hello"));

        // Say nothing: the proxy ends the idle connection, and says how the attempt ended (3004 or 3005) right after reporting it.
        var ended = await logs.WaitForAsync(e => e.EventId.Id is 3004 or 3005);

        Assert.Equal(3005, ended.EventId.Id);
        Assert.Contains("UpgradeActivityTimeout", ended.Message, StringComparison.Ordinal);
        Assert.Equal(0, f.Destination(0).Failures);
        Assert.True(f.Destination(0).IsAvailable);
    }

    [Fact]
    public async Task ActiveWebSocket_OutlivesTheRequestsDeadline()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?>
        {
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
            ["Rampart:Clusters:web:AttemptTimeout"] = "00:00:03", // the idle limit: each echo comes well within it, even on a loaded machine
            ["Rampart:Clusters:web:Timeout"] = "00:00:03", // the request's deadline (at least the attempt timeout): over once the 101 is passed on
        });
        using var socket = await ConnectAsync(f);
        for (var i = 0; i < 20; i++) // 20 × 200 ms: past the deadline (the proxy's clock is the system's here; the logic's own test is UpgradeDeadlineTests)
        {
            Assert.Equal($"hello {i}", await EchoAsync(socket, $"hello {i}"));
            await Task.Delay(200);
        }

        Assert.Equal(WebSocketState.Open, socket.State);
        Assert.Equal(0, f.Destination(0).Failures);
    }

    private static async Task<ClientWebSocket> ConnectAsync(ProxyFixture f)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://{f.Address.Host}:{f.Address.Port}/ws"), CancellationToken.None);
        return socket;
    }

    private static async Task<string> EchoAsync(ClientWebSocket socket, string text)
    {
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[64];
        var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }
}
