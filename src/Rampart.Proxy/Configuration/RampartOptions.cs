using Rampart.Clusters;

namespace Rampart.Proxy.Configuration;

/// <summary>The <c>Rampart</c> configuration section: listeners, routes and clusters.</summary>
public sealed class RampartOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Rampart";

    /// <summary>The proxy's listen URLs (used by the <c>rampart</c> executable). Default <c>http://127.0.0.1:8080</c>.</summary>
    public IList<string> Listen { get; } = [];

    /// <summary>
    /// On SIGTERM or Ctrl+C, how long in-flight requests may take to finish after the listeners stop accepting.
    /// Default 30 s; positive.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The admin listener.</summary>
    public AdminOptions Admin { get; set; } = new();

    /// <summary>Tuning of the proxy's own server (the <c>rampart</c> executable); takes effect at start.</summary>
    public ServerOptions Server { get; set; } = new();

    /// <summary>What a client's request may be: body and header sizes, timeouts, data rate.</summary>
    public LimitsOptions Limits { get; set; } = new();

    /// <summary>Routes, matched in order of specificity (ASP.NET Core routing).</summary>
    public IList<RouteOptions> Routes { get; } = [];

    /// <summary>Clusters by id.</summary>
    public IDictionary<string, ClusterOptions> Clusters { get; } = new Dictionary<string, ClusterOptions>(StringComparer.OrdinalIgnoreCase);
}

/// <summary>The admin listener: status, metrics, dashboard, actions.</summary>
public sealed class AdminOptions
{
    /// <summary>Where the admin endpoints listen. Default <c>http://127.0.0.1:9901</c>; empty to turn the admin listener off.</summary>
    public string Listen { get; set; } = "http://127.0.0.1:9901";

    /// <summary>A bearer token every admin request must carry, when set. Required to listen on a non-loopback address.</summary>
    public string? Token { get; set; }

    /// <summary>
    /// Host names, besides the listener's own address and <c>localhost</c>, that admin requests may name in their
    /// <c>Host</c> header (any other is refused: DNS rebinding). Default none. Not checked on a wildcard address
    /// (<c>0.0.0.0</c>, <c>[::]</c>), which needs a token.
    /// </summary>
    public IList<string> AllowedHosts { get; } = [];
}

/// <summary>Tuning of the proxy's own server (Kestrel); measured in <c>bench/README.md</c>.</summary>
public sealed class ServerOptions
{
    /// <summary>
    /// Runs request processing on the socket's I/O thread instead of queueing it to the thread pool
    /// (Kestrel's <c>UnsafePreferInlineScheduling</c>; pair it with the environment variable
    /// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>). Safe for Rampart, whose request path never blocks. Default false.
    /// </summary>
    public bool InlineScheduling { get; set; }
}

/// <summary>A route: which requests go to which cluster.</summary>
public sealed class RouteOptions
{
    /// <summary>The route's id, for logs and status. Required.</summary>
    public string Id { get; set; } = "";

    /// <summary>What the route matches.</summary>
    public RouteMatchOptions Match { get; set; } = new();

    /// <summary>The id of the cluster that serves it. Required; must name a configured cluster.</summary>
    public string Cluster { get; set; } = "";
}

/// <summary>What a route matches.</summary>
public sealed class RouteMatchOptions
{
    /// <summary>An ASP.NET Core route pattern, such as <c>/api/{**rest}</c>. Default <c>/{**catch-all}</c>.</summary>
    public string Path { get; set; } = "/{**catch-all}";

    /// <summary>Host names the route is limited to (<c>example.com</c>, <c>*.example.com</c>, <c>example.com:8080</c>); empty for any.</summary>
    public IList<string> Hosts { get; } = [];

    /// <summary>HTTP methods the route is limited to; empty for any.</summary>
    public IList<string> Methods { get; } = [];
}
