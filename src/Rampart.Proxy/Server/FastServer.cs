using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Rampart.Proxy.Server;

/// <summary>
/// Rampart's own HTTP/1.1 server, as a Kestrel connection middleware in front of Kestrel's HTTP server: while the
/// configuration sends every request to one cluster on the fast path (one catch-all route, <c>Forwarder: Fast</c>), it
/// serves a connection's requests itself, without an <c>HttpContext</c>; the first request it does not take, and
/// every connection while the configuration is otherwise, goes on in Kestrel's server (<c>Rampart:Server:FastServer</c>).
/// </summary>
internal sealed class FastServer(RampartProxy proxy, IOptions<KestrelServerOptions> kestrel, ILoggerFactory loggers, TimeProvider time)
{
    private ServerLimits? _limits;

    public RampartProxy Proxy => proxy;

    /// <summary>Kestrel's limits, as they are once its options are built (the first connection reads them).</summary>
    public ServerLimits Limits => _limits ??= ServerLimits.From(kestrel.Value.Limits);

    public ILogger Logger { get; } = loggers.CreateLogger("Rampart.Proxy.Server");

    /// <summary>The clock of its timeouts (idle connections, data rates), read on Kestrel's heartbeat.</summary>
    public TimeProvider Time => time;

    /// <summary>Requests this server answered itself.</summary>
    public long Served => proxy.ServerCounters.Served;

    /// <summary>Connections it passed on to Kestrel's server (at their first request, or a later one).</summary>
    public long HandedOff => proxy.ServerCounters.HandedOff;

    /// <summary>The middleware: each connection starts here; <paramref name="kestrelHttp"/> is Kestrel's HTTP server.</summary>
    public ConnectionDelegate Use(ConnectionDelegate kestrelHttp) => connection => new ServerConnection(this, connection).RunAsync(kestrelHttp).AsTask();

    public void CountServed() => proxy.ServerCounters.CountServed();

    public void CountHandedOff() => proxy.ServerCounters.CountHandedOff();
}
