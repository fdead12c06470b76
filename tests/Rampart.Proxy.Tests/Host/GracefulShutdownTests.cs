using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Host;

/// <summary>SIGTERM to a real <c>rampart</c> process with a slow request in flight.</summary>
public sealed class GracefulShutdownTests : IAsyncDisposable
{
    private TestBackend? _backend;

    public async ValueTask DisposeAsync()
    {
        if (_backend is not null)
        {
            await _backend.DisposeAsync();
        }
    }

    [Fact]
    public async Task Sigterm_LetsInFlightRequestsFinish_RefusesNewOnes_ExitsZero()
    {
        _backend = await TestBackend.StartAsync("slow", BackendMode.Slow);
        var port = Loopback.FreePort();
        await using var rampart = await RampartProcess.StartAsync($$"""
            { "Rampart": { "Listen": [ "http://127.0.0.1:{{port}}" ], "Admin": { "Listen": "" }, "ShutdownTimeout": "00:00:10",
              "Routes": [ { "Id": "all", "Cluster": "web" } ],
              "Clusters": { "web": { "Destinations": { "a": { "Address": "{{_backend.Address}}" } } } } } }
            """);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };

        _backend.ExpectRequest();
        var slow = client.GetAsync("/slow");
        await _backend.RequestArrived.WaitAsync(Wait.Generous);
        using (var term = Process.Start("kill", ["-TERM", rampart.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }

        await WaitUntilRefusedAsync(port);                 // stopped accepting while the slow request is still in flight
        Assert.False(slow.IsCompleted, "the slow request finished before the listener closed: the test proves nothing");
        using var response = await slow;                   // ... and it still completes
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok from slow", await response.Content.ReadAsStringAsync());
        using var timeout = new CancellationTokenSource(Wait.Generous);
        await rampart.Process.WaitForExitAsync(timeout.Token);
        Assert.True(rampart.Process.ExitCode == 0, $"exit code {rampart.Process.ExitCode}: {rampart.Output}");
    }

    // The one wait left on a timer: nothing tells when a listener of another process stops accepting but trying to connect.
    private static async Task WaitUntilRefusedAsync(int port)
    {
        using var timeout = new CancellationTokenSource(Wait.Generous);
        while (await ConnectsAsync(port))
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    private static async Task<bool> ConnectsAsync(int port)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
