using System.Text;
using Rampart.CircuitBreaking;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Adversarial;

/// <summary>
/// One unauthenticated client sends what no well-behaved client would, 50 times over. Whatever it sends,
/// it gets a defined answer, Rampart keeps serving everyone else, and — the point of it all — no
/// destination is blamed: every one is still available, with no failure counted, and 100 GETs succeed.
/// </summary>
public sealed class ClientAttackTests
{
    private const int Repeats = 50;

    public static TheoryData<string> Attacks => [.. AttackCatalog.All.Keys];

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task Attack_GetsItsAnswer_AndNoDestinationIsBlamed(string name)
    {
        var attack = AttackCatalog.All[name];
        await using var f = await ProxyFixture.StartAsync(settings: AttackCatalog.Settings);
        await WarmUpAsync(f);
        var seenBefore = f.Backends.Sum(b => b.Seen.Count);

        var answers = await Task.WhenAll(Enumerable.Range(0, Repeats).Select(_ => attack.SendAsync(f.Address)));

        foreach (var answer in answers)
        {
            Assert.True(attack.Expected.Contains(answer.Status), $"{name}: expected {string.Join(" or ", attack.Expected)}, got {answer.Status}: {answer.Head}");
        }

        if (!attack.ReachesDestination)
        {
            Assert.Equal(seenBefore, f.Backends.Sum(b => b.Seen.Count));
        }

        if (attack.NeverForwarded is { } path)
        {
            Assert.DoesNotContain(path, f.Backends.SelectMany(b => b.Paths));
        }

        await AssertNoDestinationBlamedAsync(f);
    }

    [Fact]
    public async Task ClientHangsUpMidBody_WhileTheDestinationWaitsForIt_NoDestinationIsBlamed()
    {
        await using var f = await ProxyFixture.StartAsync(settings: AttackCatalog.Settings);
        await WarmUpAsync(f);
        for (var i = 0; i < Repeats; i++)
        {
            f.Backends.ForEach(b => b.ExpectRequest());
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            await socket.ConnectAsync(f.Address.Host, f.Address.Port);
            await socket.SendAsync(Encoding.ASCII.GetBytes("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nhello"), System.Net.Sockets.SocketFlags.None);
            await Task.WhenAny(f.Backends.Select(b => b.RequestStarted)).WaitAsync(Wait.Generous); // forwarded: the destination waits for the rest
            socket.Close(0); // reset
        }

        await AssertNoDestinationBlamedAsync(f);
    }

    [Fact]
    public async Task ClientStopsReadingMidResponse_AndHangsUp_NoDestinationIsBlamed()
    {
        await using var f = await ProxyFixture.StartAsync(settings: AttackCatalog.Settings);
        await WarmUpAsync(f);
        f.Backends.ForEach(b => b.Mode = BackendMode.Large);
        for (var i = 0; i < Repeats; i++)
        {
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            await socket.ConnectAsync(f.Address.Host, f.Address.Port);
            await socket.SendAsync(Encoding.ASCII.GetBytes("GET /large HTTP/1.1\r\nHost: a\r\n\r\n"), System.Net.Sockets.SocketFlags.None);
            Assert.Equal(200, (await RawHttp.ReadHeadAsync(socket)).Status); // the body is on its way: 16 MB the client will never read
            socket.Close(0);
        }

        f.Backends.ForEach(b => b.Mode = BackendMode.Ok);
        await AssertNoDestinationBlamedAsync(f);
    }

    [Fact]
    public async Task DestinationResetsWhileTheBodyStreams_CountsAgainstIt_ClientGets502()
    {
        // The other side of the same row: when the destination stops taking the body, it is the destination's failure.
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?>
        {
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
        });
        f.Backends[0].Mode = BackendMode.ResetAtOnce;

        using var response = await f.Client.PostAsync("/upload", new ByteArrayContent(new byte[2_000_000]));

        Assert.Equal(System.Net.HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(1, f.Destination(0).Failures);
    }

    [Fact]
    public async Task Slowloris_HeadersNeverFinished_OthersServed_ConnectionsClosedAfterTheHeadersTimeout()
    {
        await using var f = await ProxyFixture.StartAsync(settings: AttackCatalog.Settings);
        var sockets = new List<System.Net.Sockets.Socket>();
        try
        {
            for (var i = 0; i < Repeats; i++)
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                await socket.ConnectAsync(f.Address.Host, f.Address.Port);
                await socket.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: "), System.Net.Sockets.SocketFlags.None);
                sockets.Add(socket);
            }

            await AssertNoDestinationBlamedAsync(f); // served while 50 connections dangle

            // Rampart:Limits:RequestHeadersTimeout (2 s here): each dangling connection is answered 408 or closed.
            var ends = await Task.WhenAll(sockets.Select(RawHttp.ReadHeadAsync));
            Assert.All(ends, end => Assert.Contains(end.Status, new[] { 0, 408 }));
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    private static async Task WarmUpAsync(ProxyFixture f)
    {
        var response = await f.Client.GetAsync("/warm-up");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Every destination available, nothing counted against any, and 100 GETs all succeed.</summary>
    internal static async Task AssertNoDestinationBlamedAsync(ProxyFixture f)
    {
        foreach (var d in f.Cluster.Destinations)
        {
            Assert.True(d.IsAvailable, $"{d.Id} is not available: " + string.Join(" | ", d.GetTransitions().Select(t => $"{t.From}->{t.To}: {t.Reason}")));
            Assert.Equal(CircuitState.Closed, d.Breaker.State);
            Assert.Equal(0, d.Failures);
        }

        for (var i = 0; i < 100; i++)
        {
            using var response = await f.Client.GetAsync($"/after/{i}");
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }
    }
}
