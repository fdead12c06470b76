using Rampart.Clusters;
using Rampart.Configuration;
using Rampart.Proxy.Forwarding;
using Rampart.Tls;

namespace Rampart.Proxy.Configuration;

/// <summary>The <c>Rampart</c> configuration section: listeners, routes and clusters.</summary>
public sealed class RampartOptions : FreezableOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Rampart";

    /// <summary>
    /// The proxy's listen URLs (used by the <c>rampart</c> executable), each an IP address or <c>localhost</c> with a
    /// port. Default <c>http://127.0.0.1:8080</c> when neither this nor <see cref="Listeners"/> names one.
    /// </summary>
    public IList<string> Listen { get; private set; } = [];

    /// <summary>The certificates of the <c>https://</c> addresses in <see cref="Listen"/>, and of listeners that name none of their own.</summary>
    public TlsOptions Tls { get; set => field = Settable(value); } = new();

    /// <summary>More listeners, each with its own settings (the protocols it speaks); served beside <see cref="Listen"/>.</summary>
    public IList<ListenerOptions> Listeners { get; private set; } = [];

    /// <summary>
    /// On SIGTERM or Ctrl+C, how long in-flight requests may take to finish after the listeners stop accepting.
    /// Default 30 s; positive.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set => field = Settable(value); } = TimeSpan.FromSeconds(30);

    /// <summary>The admin listener.</summary>
    public AdminOptions Admin { get; set => field = Settable(value); } = new();

    /// <summary>Tuning of the proxy's own server (the <c>rampart</c> executable); takes effect at start.</summary>
    public ServerOptions Server { get; set => field = Settable(value); } = new();

    /// <summary>Tracing (off unless an OTLP endpoint is named); takes effect at start.</summary>
    public TelemetryOptions Telemetry { get; set => field = Settable(value); } = new();

    /// <summary>One line per proxied request (off by default); takes effect at start.</summary>
    public AccessLogOptions AccessLog { get; set => field = Settable(value); } = new();

    /// <summary>
    /// What Rampart does with <c>X-Forwarded-For</c>/<c>-Proto</c>/<c>-Host</c> and <c>Forwarded</c>: <c>Append</c> (default;
    /// the client's address is added to what the request carries), <c>Replace</c> (what the client sent is dropped: for a
    /// proxy at the edge) or <c>Off</c> (they pass as sent). Applies at once on reload.
    /// </summary>
    public ForwardedHeadersMode ForwardedHeaders { get; set => field = Settable(value); }

    /// <summary>Which headers carry it: <c>XForwarded</c> (default), <c>Forwarded</c> (RFC 7239) or <c>Both</c>.</summary>
    public ForwardedHeadersFormat ForwardedHeadersFormat { get; set => field = Settable(value); }

    /// <summary>How destinations with <c>Discovery</c> are resolved: DNS servers, refresh interval, query timeout.</summary>
    public Discovery.DnsOptions Dns { get; set => field = Settable(value); } = new();

    /// <summary>Replicas that share health through Redis (off unless <c>Fleet:Redis</c> is set); read at start.</summary>
    public Fleet.FleetOptions Fleet { get; set => field = Settable(value); } = new();

    /// <summary>What a client's request may be: body and header sizes, timeouts, data rate.</summary>
    public LimitsOptions Limits { get; set => field = Settable(value); } = new();

    /// <summary>Routes, matched in order of specificity (ASP.NET Core routing).</summary>
    public IList<RouteOptions> Routes { get; private set; } = [];

    /// <summary>Clusters by id.</summary>
    public IDictionary<string, ClusterOptions> Clusters { get; private set; } = new Dictionary<string, ClusterOptions>(StringComparer.OrdinalIgnoreCase);
}

/// <summary>A listener of the proxy: an address and what it speaks.</summary>
public sealed class ListenerOptions : FreezableOptions
{
    /// <summary>Where to listen: <c>http://IP:PORT</c> or <c>http://localhost:PORT</c>. Required.</summary>
    public string Url { get; set => field = Settable(value); } = "";

    /// <summary>
    /// What clients may speak: <c>Http1</c>, <c>Http2</c> (over <c>http://</c>: HTTP/2 with prior knowledge, h2c, as gRPC
    /// clients do), or <c>Http1AndHttp2</c> (over <c>https://</c>, negotiated by ALPN). Default: <c>Http1</c> over
    /// <c>http://</c>, <c>Http1AndHttp2</c> over <c>https://</c>.
    /// </summary>
    public ListenerProtocols? Protocols { get; set => field = Settable(value); }

    /// <summary>The certificates of an <c>https://</c> listener; <c>Rampart:Tls</c>'s when it names none.</summary>
    public TlsOptions Tls { get; set => field = Settable(value); } = new();
}

/// <summary>
/// An <c>https://</c> listener's certificates: a default one, others by host name (SNI), each from PEM files (certificate
/// and key) or a PFX file. The files are watched: a certificate replaced on disk serves the next connections.
/// </summary>
public sealed class TlsOptions : FreezableOptions
{
    /// <summary>The certificate served when no <see cref="Sni"/> entry matches the name the client asked for.</summary>
    public CertificateOptions Certificate { get; set => field = Settable(value); } = new();

    /// <summary>Certificates by the host name a client asks for (SNI): exact names, and wildcards such as <c>*.example.com</c> (one label).</summary>
    public IDictionary<string, CertificateOptions> Sni { get; private set; } = new Dictionary<string, CertificateOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The oldest TLS version served: <c>Tls12</c> (default) or <c>Tls13</c>.</summary>
    public TlsVersion MinimumVersion { get; set => field = Settable(value); } = TlsVersion.Tls12;

    /// <summary>Whether any certificate is named.</summary>
    public bool IsConfigured => Certificate.Path.Length > 0 || Sni.Count > 0;

    /// <summary>Every certificate named, with its key (<c>KEY:Certificate</c>, <c>KEY:Sni:NAME</c>).</summary>
    internal IEnumerable<(string Key, string? Name, CertificateOptions Options)> Certificates(string key)
    {
        if (Certificate.Path.Length > 0 || Sni.Count == 0)
        {
            yield return ($"{key}:Certificate", null, Certificate);
        }

        foreach (var (name, certificate) in Sni)
        {
            yield return ($"{key}:Sni:{name}", name, certificate);
        }
    }
}

/// <summary>A TLS protocol version.</summary>
public enum TlsVersion
{
    /// <summary>TLS 1.2 (and 1.3).</summary>
    Tls12 = 12,

    /// <summary>TLS 1.3 only.</summary>
    Tls13 = 13,
}

/// <summary>The HTTP versions a listener speaks.</summary>
public enum ListenerProtocols
{
    /// <summary>HTTP/1.1 (and 1.0).</summary>
    Http1 = 1,

    /// <summary>HTTP/2 only; over <c>http://</c>, with prior knowledge (h2c).</summary>
    Http2 = 2,

    /// <summary>Both; over <c>http://</c> a client gets HTTP/1.1 (h2c needs <see cref="Http2"/> alone).</summary>
    Http1AndHttp2 = 3,
}

/// <summary>The admin listener: status, metrics, dashboard, actions.</summary>
public sealed class AdminOptions : FreezableOptions
{
    /// <summary>Where the admin endpoints listen. Default <c>http://127.0.0.1:9901</c>; empty to turn the admin listener off.</summary>
    public string Listen { get; set => field = Settable(value); } = "http://127.0.0.1:9901";

    /// <summary>A bearer token every admin request must carry, when set. Required to listen on a non-loopback address.</summary>
    public string? Token { get; set => field = Settable(value); }

    /// <summary>
    /// Host names, besides the listener's own address and <c>localhost</c>, that admin requests may name in their
    /// <c>Host</c> header (any other is refused: DNS rebinding). Default none. Not checked on a wildcard address
    /// (<c>0.0.0.0</c>, <c>[::]</c>), which needs a token.
    /// </summary>
    public IList<string> AllowedHosts { get; private set; } = [];
}

/// <summary>Tuning of the proxy's own server (Kestrel); measured in <c>bench/README.md</c>.</summary>
public sealed class ServerOptions : FreezableOptions
{
    /// <summary>
    /// Runs request processing on the socket's I/O thread instead of queueing it to the thread pool
    /// (Kestrel's <c>UnsafePreferInlineScheduling</c>; pair it with the environment variable
    /// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>). Safe for Rampart, whose request path never blocks. Default false.
    /// </summary>
    public bool InlineScheduling { get; set => field = Settable(value); }

    /// <summary>
    /// Rampart's own HTTP/1.1 server on the plain-HTTP listeners: while every request goes to one cluster on Rampart's
    /// own path (<c>Forwarder: Fast</c>, or <c>Auto</c> where it carries the cluster; one route that matches everything), it serves requests without a body, with a
    /// <c>Content-Length</c> body or a chunked one itself, without Kestrel's <c>HttpContext</c>; the first request it does
    /// not take (another transfer coding, an upgrade, HTTP/1.0, anything unusual or malformed) and HTTP/2 go on in
    /// Kestrel's server, with the rest of that connection. Read at start. Default true.
    /// </summary>
    public bool FastServer { get; set => field = Settable(value); } = true;

    /// <summary>
    /// What the listeners' connections run on: <see cref="ServerTransport.Auto"/> (the default: <c>Epoll</c> where it
    /// runs, else <c>Sockets</c>), <see cref="ServerTransport.Epoll"/>, Rampart's epoll loops (Linux x64), where a
    /// request and the destination connection it uses wake the same thread and no read is made that is sure to find
    /// nothing, or <see cref="ServerTransport.Sockets"/>, Kestrel's own. Read at start.
    /// </summary>
    public ServerTransport Transport { get; set => field = Settable(value); } = ServerTransport.Auto;

    /// <summary>Whether the listeners run on Rampart's epoll loops: <see cref="Transport"/> says <c>Epoll</c>, or <c>Auto</c> on Linux x64.</summary>
    internal bool UsesEpoll => Transport == ServerTransport.Epoll || (Transport == ServerTransport.Auto && Rampart.Proxy.Transport.EpollNative.IsSupported);

    /// <summary>
    /// With <see cref="ServerTransport.Epoll"/>: each epoll loop runs on a CPU of its own (loop N on the process's Nth
    /// allowed CPU), as nginx's <c>worker_cpu_affinity auto</c> pins its workers; a loop the system refuses to pin runs
    /// unpinned. The loops are the process's: the first proxy to bind decides. Read at start.
    /// </summary>
    public bool PinLoops { get; set => field = Settable(value); }
}

/// <summary>What the proxy's listeners run on (<c>Rampart:Server:Transport</c>).</summary>
public enum ServerTransport
{
    /// <summary>Kestrel's socket transport, on .NET's sockets.</summary>
    Sockets = 0,

    /// <summary>Rampart's epoll loops (Linux x64): one thread per core, nginx's discipline of reads; TCP listeners only.</summary>
    Epoll = 1,

    /// <summary><see cref="Epoll"/> where it runs (Linux x64), else <see cref="Sockets"/>.</summary>
    Auto = 2,
}

/// <summary>OpenTelemetry tracing: a server span per proxied request, a client span per attempt, exported with OTLP.</summary>
public sealed class TelemetryOptions : FreezableOptions
{
    /// <summary>Where spans are exported.</summary>
    public OtlpOptions Otlp { get; set => field = Settable(value); } = new();

    /// <summary>The share of traces recorded when the client's trace context does not decide it (0 to 1). Default 1.</summary>
    public double SamplingRatio { get; set => field = Settable(value); } = 1;
}

/// <summary>An OTLP exporter.</summary>
public sealed class OtlpOptions : FreezableOptions
{
    /// <summary>The collector's endpoint (gRPC, such as <c>http://127.0.0.1:4317</c>); tracing is off while it is empty (the default).</summary>
    public string Endpoint { get; set => field = Settable(value); } = "";
}

/// <summary>The access log: one JSON line per proxied request, written off the request path.</summary>
public sealed class AccessLogOptions : FreezableOptions
{
    /// <summary>Whether to write it. Default false.</summary>
    public bool Enabled { get; set => field = Settable(value); }

    /// <summary>The file lines are appended to (its folder must exist); standard output when empty (the default).</summary>
    public string Path { get; set => field = Settable(value); } = "";
}

/// <summary>A route: which requests go to which cluster.</summary>
public sealed class RouteOptions : FreezableOptions
{
    /// <summary>The route's id, for logs and status. Required.</summary>
    public string Id { get; set => field = Settable(value); } = "";

    /// <summary>What the route matches.</summary>
    public RouteMatchOptions Match { get; set => field = Settable(value); } = new();

    /// <summary>The id of the cluster that serves it. Required; must name a configured cluster.</summary>
    public string Cluster { get; set => field = Settable(value); } = "";
}

/// <summary>What a route matches.</summary>
public sealed class RouteMatchOptions : FreezableOptions
{
    /// <summary>An ASP.NET Core route pattern, such as <c>/api/{**rest}</c>. Default <c>/{**catch-all}</c>.</summary>
    public string Path { get; set => field = Settable(value); } = "/{**catch-all}";

    /// <summary>Host names the route is limited to (<c>example.com</c>, <c>*.example.com</c>, <c>example.com:8080</c>); empty for any.</summary>
    public IList<string> Hosts { get; private set; } = [];

    /// <summary>HTTP methods the route is limited to; empty for any.</summary>
    public IList<string> Methods { get; private set; } = [];
}
