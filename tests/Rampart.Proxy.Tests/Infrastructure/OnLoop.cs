using System.Net;
using System.Net.Sockets;
using Rampart.Proxy.Transport;

namespace Rampart.Proxy.Tests.Infrastructure;

/// <summary>Gets a test's work onto an epoll loop's thread: where a receive on one of the loop's sockets completes.</summary>
internal static class OnLoop
{
    /// <summary>Runs <paramref name="work"/> on <paramref name="loop"/>'s thread, as a request's work runs there (inside a batch of events).</summary>
    public static async Task<T> RunAsync<T>(EventLoop loop, Func<T> work)
    {
        using var waker = new TcpListener(IPAddress.Loopback, 0);
        waker.Start();
        var accepting = waker.AcceptSocketAsync();
        using var near = await EpollSocket.ConnectAsync("127.0.0.1", ((IPEndPoint)waker.LocalEndpoint).Port, loop, CancellationToken.None);
        using var far = await accepting;
        var running = AfterAsync(near.ReceiveAsync(new byte[1]));
        await far.SendAsync(new byte[1]);
        return await running;

        async Task<T> AfterAsync(ValueTask<int> receiving)
        {
            await receiving.ConfigureAwait(false);
            Assert.Same(loop, EventLoop.Current);
            return work();
        }
    }
}
