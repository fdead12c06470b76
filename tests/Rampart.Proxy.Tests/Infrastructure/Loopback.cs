using System.Net;
using System.Net.Sockets;

namespace Rampart.Proxy.Tests.Infrastructure;

/// <summary>Loopback ports for servers a test starts as processes of their own (redis-server, rampart), which bind them.</summary>
public static class Loopback
{
    /// <summary>A loopback port free when asked.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
