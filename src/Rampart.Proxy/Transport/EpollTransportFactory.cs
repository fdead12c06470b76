using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Rampart.Proxy.Configuration;

namespace Rampart.Proxy.Transport;

/// <summary>
/// Kestrel's transport on Rampart's epoll loops (<c>Rampart:Server:Transport: Epoll</c>), for TCP endpoints: accepted
/// connections are spread over the loops, one per core; everything Kestrel does above a transport (TLS, HTTP/2, its
/// HTTP/1.1 server, Rampart's own) runs on it unchanged. Registered always; it binds only while the option says so
/// (Kestrel then binds with the transport registered before it, its sockets), and only TCP endpoints.
/// </summary>
internal sealed class EpollTransportFactory(RampartOptions options, IServiceProvider services) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint && options.Server.UsesEpoll && EpollNative.IsSupported;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var ip = (IPEndPoint)endpoint;
        EventLoop.PinOnStart(options.Server.PinLoops); // before the first connection starts the loops
        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(ip);
            socket.Listen(512);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw new AddressInUseException(ex.Message, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        if (services.GetService(typeof(RampartProxy)) is RampartProxy proxy)
        {
            proxy.ServerCounters.Transport = nameof(ServerTransport.Epoll); // what /status shows
        }

        return new ValueTask<IConnectionListener>(new Listener(socket));
    }

    private sealed class Listener(Socket socket) : IConnectionListener
    {
        public EndPoint EndPoint { get; } = socket.LocalEndPoint!;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                Socket accepted;
                try
                {
                    accepted = await socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is ObjectDisposedException or OperationCanceledException
                    || ex is SocketException { SocketErrorCode: SocketError.OperationAborted or SocketError.Interrupted })
                {
                    return null; // unbound
                }
                catch (SocketException)
                {
                    continue; // one connection failed as it was accepted (reset before): the next
                }

                try
                {
                    return new EpollConnection(EpollSocket.Adopt(accepted, EventLoop.Next()));
                }
                catch (SocketException)
                {
                    accepted.Dispose();
                }
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            socket.Dispose();
            return default;
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return default;
        }
    }
}
