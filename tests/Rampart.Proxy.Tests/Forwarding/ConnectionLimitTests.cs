using System.Net;
using System.Net.Sockets;
using System.Text;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Forwarding;

/// <summary>
/// <c>MaxConnectionsPerDestination</c>, on both data paths: never more connections to a destination than the limit,
/// the requests beyond wait for one and are all served; a waiter whose client leaves takes no connection or slot with
/// it; a request that waits past its deadline is answered 504, as on the other path.
/// </summary>
public sealed class ConnectionLimitTests
{
    [Theory]
    [InlineData("Yarp")]
    [InlineData("Fast")]
    public async Task RequestsBeyondTheLimit_WaitForAConnection_AndAreAllServed(string forwarder)
    {
        await using var backend = new GatedBackend();
        await using var f = await StartAsync(backend, forwarder, limit: 2);

        var requests = Enumerable.Range(0, 6).Select(i => f.Client.GetStringAsync($"/{i}")).ToArray();
        await Wait.UntilAsync(() => backend.Held == 2, "two requests held at the destination", [backend]);
        Assert.Equal(2, backend.Open); // the other four wait in the proxy, not at the destination

        backend.Release();
        var answers = await Task.WhenAll(requests);

        Assert.All(answers, a => Assert.Equal("ok", a));
        Assert.Equal(6, backend.Requests);
        Assert.Equal(2, backend.MostOpen);
        Assert.Equal(0, f.Cluster.Destinations.Single().Failures);
    }

    [Theory]
    [InlineData("Yarp")]
    [InlineData("Fast")]
    public async Task AWaiterWhoseClientLeaves_TakesNothingWithIt(string forwarder)
    {
        await using var backend = new GatedBackend();
        var logs = new LogCapture(); // each attempt's end is logged right after it is reported: the moment to look again
        await using var f = await StartAsync(backend, forwarder, limit: 1, logs: logs);
        var first = f.Client.GetStringAsync("/held");
        await Wait.UntilAsync(() => backend.Held == 1, "the first request held", [backend]);

        using (var leaving = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => f.Client.GetAsync("/waits", leaving.Token)); // waits for the one connection, then leaves
        }

        // The proxy has seen it leave (otherwise the connection could go to the leaving request, whose abort closes it,
        // and the next request's new one would overlap the old one's close at the destination).
        var destination = f.Cluster.Destinations.Single();
        await Wait.UntilAsync(() => destination.InFlight == 1, "the waiter's leaving seen by the proxy", [logs]);
        backend.Release();
        Assert.Equal("ok", await first);
        Assert.Equal("ok", await f.Client.GetStringAsync("/next")); // the connection (and its slot) are still there

        Assert.Equal(1, backend.MostOpen);
        Assert.Equal(0, f.Cluster.Destinations.Single().Failures);
    }

    [Theory]
    [InlineData("Yarp")]
    [InlineData("Fast")]
    public async Task ARequestWaitingPastItsDeadline_Is504_AsOnTheOtherPath(string forwarder)
    {
        await using var backend = new GatedBackend();
        await using var f = await StartAsync(backend, forwarder, limit: 1, timeout: "00:00:00.500");
        var first = f.Client.GetAsync("/held");
        await Wait.UntilAsync(() => backend.Held == 1, "the first request held", [backend]);

        using var second = await f.Client.GetAsync("/waits"); // no connection within its 500 ms
        using var held = await first; // held past its own deadline

        Assert.Equal(HttpStatusCode.GatewayTimeout, second.StatusCode);
        Assert.Equal(HttpStatusCode.GatewayTimeout, held.StatusCode);
        // As any request past its deadline without an answer (FailureAttribution): the destination's slowness — here
        // it holds the one connection the other request waited for. Both data paths count it the same way.
        Assert.Equal(2, f.Cluster.Destinations.Single().Failures);
    }

    // One cluster, the gated destination its only one, no probes; the timeout is the request's and each attempt's.
    private static Task<ProxyFixture> StartAsync(GatedBackend backend, string forwarder, int limit, string? timeout = null, LogCapture? logs = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Rampart:Clusters:web:Forwarder"] = forwarder,
            ["Rampart:Clusters:web:MaxConnectionsPerDestination"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Rampart:Clusters:web:Destinations:gated:Address"] = backend.Address.ToString(),
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
        };
        if (timeout is not null)
        {
            settings["Rampart:Clusters:web:Timeout"] = timeout;
            settings["Rampart:Clusters:web:AttemptTimeout"] = timeout;
        }

        return ProxyFixture.StartAsync(backends: 0, settings: settings, logs: logs);
    }

    /// <summary>A destination that holds every request until released, counting its connections.</summary>
    private sealed class GatedBackend : IAsyncDisposable, IProgressSource
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<Task> _connections = [];
        private readonly Task _accepting;
        private int _open;
        private int _mostOpen;
        private int _held;
        private int _requests;

        public GatedBackend()
        {
            _listener.Start();
            _accepting = AcceptAsync();
        }

        public event Action? Progressed;

        public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

        public int Open => Volatile.Read(ref _open);

        public int MostOpen => Volatile.Read(ref _mostOpen);

        public int Held => Volatile.Read(ref _held);

        public int Requests => Volatile.Read(ref _requests);

        public void Release() => _gate.TrySetResult();

        public async ValueTask DisposeAsync()
        {
            Release();
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            Task[] connections;
            lock (_connections)
            {
                connections = [.. _connections];
            }

            await Task.WhenAll(connections);
            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (true)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptSocketAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                var open = Interlocked.Increment(ref _open);
                InterlockedMax(ref _mostOpen, open);
                lock (_connections)
                {
                    _connections.Add(ServeAsync(socket));
                }
            }
        }

        // Keep-alive: each request on the connection is held at the gate, then answered.
        private async Task ServeAsync(Socket socket)
        {
            using (socket)
            {
                try
                {
                    var buffer = new byte[8192];
                    var text = new StringBuilder();
                    while (true)
                    {
                        var end = text.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal);
                        if (end < 0)
                        {
                            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                            if (read == 0)
                            {
                                return;
                            }

                            text.Append(Encoding.Latin1.GetString(buffer, 0, read));
                            continue;
                        }

                        text.Remove(0, end + 4);
                        Interlocked.Increment(ref _held);
                        Progressed?.Invoke();
                        await _gate.Task.WaitAsync(_stop.Token);
                        Interlocked.Decrement(ref _held);
                        Interlocked.Increment(ref _requests);
                        await socket.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray(), SocketFlags.None, _stop.Token);
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException)
                {
                    // stopped, or the proxy hung up
                }
                finally
                {
                    Interlocked.Decrement(ref _open);
                }
            }
        }

        private static void InterlockedMax(ref int location, int value)
        {
            var current = Volatile.Read(ref location);
            while (value > current && Interlocked.CompareExchange(ref location, value, current) is var seen && seen != current)
            {
                current = seen;
            }
        }
    }
}
