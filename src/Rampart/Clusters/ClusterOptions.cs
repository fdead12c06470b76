using Rampart.CircuitBreaking;
using Rampart.Configuration;
using Rampart.Health;
using Rampart.LoadBalancing;

namespace Rampart.Clusters;

/// <summary>A cluster: its destinations and how Rampart protects and balances them.</summary>
public sealed class ClusterOptions : FreezableOptions
{
    /// <summary>Destinations by id. At least one.</summary>
    public IDictionary<string, DestinationOptions> Destinations { get; private set; } = new Dictionary<string, DestinationOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The load-balancing policy: <c>RoundRobin</c> (default), <c>PowerOfTwoChoices</c>, <c>LeastRequests</c> or <c>Random</c>.</summary>
    public string LoadBalancing { get; set => field = Settable(value); } = "RoundRobin";

    /// <summary>Active and passive health checking.</summary>
    public HealthCheckOptions HealthCheck { get; set => field = Settable(value); } = new();

    /// <summary>The circuit breaker each destination gets.</summary>
    public CircuitBreakerOptions CircuitBreaker { get; set => field = Settable(value); } = new();

    /// <summary>Failover to another destination.</summary>
    public RetryOptions Retry { get; set => field = Settable(value); } = new();

    /// <summary>How long one attempt may wait for the destination's response headers (and stay idle afterwards). Default 10 s; positive.</summary>
    public TimeSpan AttemptTimeout { get; set => field = Settable(value); } = TimeSpan.FromSeconds(10);

    /// <summary>The whole request's deadline across attempts. Default 30 s; at least <see cref="AttemptTimeout"/>.</summary>
    public TimeSpan Timeout { get; set => field = Settable(value); } = TimeSpan.FromSeconds(30);

    /// <summary>Response statuses that count as the destination's failure. Default <c>"500,502-504"</c>.</summary>
    public string FailureStatusCodes { get; set => field = Settable(value); } = "500,502-504";

    /// <summary>
    /// A destination coming back (recovered, reset or newly added) ramps its share of picks up linearly over this window
    /// instead of jumping to a full share, under every load-balancing policy. Default 0 (off); at least 0.
    /// </summary>
    public TimeSpan SlowStartWindow { get; set => field = Settable(value); }

    /// <summary>
    /// When fewer than this share of destinations are available, spread load over all of them instead of failing fast
    /// (Envoy's panic threshold). Default 0 (off: fail fast with 503); 0 to 1.
    /// </summary>
    public double PanicThreshold { get; set => field = Settable(value); }

    /// <summary>
    /// The most connections the proxy opens to one destination; requests beyond wait for a free one (within their
    /// attempt timeout). Default 0: no limit. The proxy's setting: a Rampart HttpClient uses its primary handler's.
    /// </summary>
    public int MaxConnectionsPerDestination { get; set => field = Settable(value); }

    /// <summary>
    /// The HTTP version requests and HTTP probes use towards the destinations: <c>"1.1"</c> (default) or <c>"2"</c>.
    /// HTTP/2 carries many requests on one connection per destination (far fewer sockets and system calls); to an
    /// <c>http://</c> destination it is spoken with prior knowledge (h2c), so every destination must speak it; to an
    /// <c>https://</c> one it is negotiated and falls back to HTTP/1.1.
    /// </summary>
    public string HttpVersion { get; set => field = Settable(value); } = "1.1";

    /// <summary>
    /// The proxy's data path to the destinations: <c>"Auto"</c> (default: <c>Fast</c> where it can carry the cluster —
    /// <c>HttpVersion</c> 1.1 and every destination <c>http://</c> —, else <c>Yarp</c>), <c>"Fast"</c> (Rampart's own
    /// HTTP/1.1 path: pooled connections, a strict response parser; needs <c>HttpVersion</c> 1.1 and <c>http://</c>
    /// destinations; upgrade requests still go the YARP way) or <c>"Yarp"</c> (YARP's forwarder, every protocol). Every
    /// decision is the same on both. The HttpClient handler ignores it.
    /// </summary>
    public string Forwarder { get; set => field = Settable(value); } = "Auto";

    /// <summary>
    /// How requests and probes reach <c>https://</c> destinations: <c>CaPath</c> (a PEM bundle trusted instead of the
    /// system's store), <c>ClientCertificate</c> (mTLS: PEM <c>Path</c> and <c>KeyPath</c>, or a PFX <c>Path</c>),
    /// <c>ServerName</c> (sent in SNI and checked against the certificate instead of the request's <c>Host</c>).
    /// </summary>
    public global::Rampart.Tls.DestinationTlsOptions Tls { get; set => field = Settable(value); } = new();

    /// <summary>
    /// How the proxy finds the addresses behind its destinations' host names (a destination's own <c>Discovery</c> wins):
    /// <c>None</c> (default: the address is one destination), <c>Dns</c> (each address the name resolves to is a
    /// destination of its own, id <c>name/address</c>, on the address's port) or <c>DnsSrv</c> (the host is an SRV name;
    /// each target address and port is a destination, id <c>name/address:port</c>). Re-resolved as <c>Rampart:Dns</c> says.
    /// A destination whose address is an IP address stays as it is. The proxy's setting: the HttpClient handler refuses it.
    /// </summary>
    public string Discovery { get; set => field = Settable(value); } = "None";

    /// <summary>Whether the proxy forwards on Rampart's own HTTP/1.1 path: <see cref="Forwarder"/> names it, or is <c>Auto</c> and it can carry the cluster.</summary>
    internal bool UsesFastForwarder => IsForwarder("Fast") || (IsForwarder("Auto") && FastCanCarry);

    // What Rampart's own path can carry — HTTP/1.1, to destinations without TLS — in one place: Auto decides by it, and
    // Fast named outright is validated against it.
    private bool FastCanCarry => FastSpeaks(HttpVersion) && Destinations.Values.All(FastReaches);

    private static bool FastSpeaks(string httpVersion) => httpVersion == "1.1";

    private static bool FastReaches(DestinationOptions destination) => !destination.Address.StartsWith("https:", StringComparison.OrdinalIgnoreCase);

    private bool IsForwarder(string name) => Forwarder.Equals(name, StringComparison.OrdinalIgnoreCase);

    /// <summary>Validates these options once and returns them as an immutable snapshot (themselves, when they are one already): what a <see cref="ClusterState"/> holds.</summary>
    /// <param name="prefix">The configuration path of this cluster, such as <c>Rampart:Clusters:web</c>, that every problem is reported under.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem, each naming its key.</exception>
    public ClusterOptions ToSnapshot(string prefix = "") => OptionsTree.Validated(this, o => o.Validate(prefix), "cluster options");

    /// <summary>Every problem with this cluster, each naming its key under <paramref name="prefix"/>; empty when valid.</summary>
    /// <param name="prefix">The configuration path of this cluster, such as <c>Rampart:Clusters:web</c>.</param>
    public IReadOnlyList<string> Validate(string prefix = "")
    {
        var errors = new OptionsErrors(prefix);
        errors.Check(Destinations.Count > 0, nameof(Destinations), "must have at least one destination", Destinations.Count);
        errors.Check(DiscoveryModes.IsName(Discovery), nameof(Discovery), DiscoveryModes.Rule, Discovery);
        foreach (var (id, destination) in Destinations)
        {
            var ok = Uri.TryCreate(destination.Address, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
            errors.Check(ok, $"{nameof(Destinations)}:{id}:{nameof(DestinationOptions.Address)}", "must be an absolute http:// or https:// URL", destination.Address);
            errors.Check(destination.Discovery.Length == 0 || DiscoveryModes.IsName(destination.Discovery), $"{nameof(Destinations)}:{id}:{nameof(DestinationOptions.Discovery)}", DiscoveryModes.Rule, destination.Discovery);
            ValidateDiscovery(errors, id, destination);
        }

        errors.Check(LoadBalancingPolicies.TryCreate(LoadBalancing, out _), nameof(LoadBalancing), "must be one of " + string.Join(", ", LoadBalancingPolicies.Names), LoadBalancing);
        errors.AddRange(HealthCheck.Validate(errors.Key(nameof(HealthCheck))));
        errors.AddRange(CircuitBreaker.Validate(errors.Key(nameof(CircuitBreaker))));
        errors.Check(Retry.MaxAttempts is >= 1 and <= 10, "Retry:MaxAttempts", "must be between 1 and 10", Retry.MaxAttempts);
        errors.Check(Retry.BudgetRatio is >= 0 and <= 1, "Retry:BudgetRatio", "must be between 0 and 1", Retry.BudgetRatio);
        errors.Check(Retry.MinRetriesPerWindow >= 0, "Retry:MinRetriesPerWindow", "must be at least 0", Retry.MinRetriesPerWindow);
        errors.Check(Retry.MaxBufferedBodyBytes is >= 0 and <= 100 * 1024 * 1024, "Retry:MaxBufferedBodyBytes", "must be between 0 and 104857600", Retry.MaxBufferedBodyBytes);
        errors.Check(AttemptTimeout > TimeSpan.Zero, nameof(AttemptTimeout), "must be positive", AttemptTimeout);
        errors.Check(Timeout >= AttemptTimeout, nameof(Timeout), "must be at least AttemptTimeout", Timeout);
        errors.Check(StatusCodeSet.TryParse(FailureStatusCodes, out _), nameof(FailureStatusCodes), "must be status codes or ranges within 100-999, such as \"500,502-504\"", FailureStatusCodes);
        errors.Check(SlowStartWindow >= TimeSpan.Zero, nameof(SlowStartWindow), "must be 0 (off) or positive", SlowStartWindow);
        errors.Check(PanicThreshold is >= 0 and <= 1, nameof(PanicThreshold), "must be between 0 (off) and 1", PanicThreshold);
        errors.Check(MaxConnectionsPerDestination >= 0, nameof(MaxConnectionsPerDestination), "must be 0 (no limit) or positive", MaxConnectionsPerDestination);
        errors.Check(HttpVersions.TryParse(HttpVersion, out _), nameof(HttpVersion), "must be one of " + string.Join(", ", HttpVersions.Names), HttpVersion);
        errors.Check(IsForwarder("Auto") || IsForwarder("Fast") || IsForwarder("Yarp"), nameof(Forwarder), "must be one of Auto, Fast, Yarp", Forwarder);
        if (IsForwarder("Fast"))
        {
            errors.Check(FastSpeaks(HttpVersion), nameof(Forwarder), "Fast speaks HTTP/1.1 only: HttpVersion must be 1.1", Forwarder);
            foreach (var (id, destination) in Destinations)
            {
                errors.Check(FastReaches(destination), $"{nameof(Destinations)}:{id}:{nameof(DestinationOptions.Address)}", "must be http:// with Forwarder Fast (no TLS on the fast path yet)", destination.Address);
            }
        }
        ValidateTls(errors);
        errors.AtMostADay((nameof(AttemptTimeout), AttemptTimeout), (nameof(Timeout), Timeout), (nameof(SlowStartWindow), SlowStartWindow));
        errors.AtMost(Retry.MinRetriesPerWindow, 1_000_000, "Retry:MinRetriesPerWindow");
        errors.AtMost(MaxConnectionsPerDestination, 1_000_000, nameof(MaxConnectionsPerDestination));
        return errors.Errors;
    }

    // What a discovered destination's address must be: SRV gives the port; a certificate is checked against a name, never a discovered address.
    private void ValidateDiscovery(OptionsErrors errors, string id, DestinationOptions destination)
    {
        var mode = DiscoveryModes.Discovered(this, destination, out var uri);
        if (mode == DiscoveryMode.None)
        {
            return;
        }

        var key = $"{nameof(Destinations)}:{id}:{nameof(DestinationOptions.Address)}";
        errors.Check(mode != DiscoveryMode.DnsSrv || uri!.IsDefaultPort, key, "must not name a port with Discovery DnsSrv: the SRV records give it", destination.Address);
        errors.Check(uri!.Scheme == Uri.UriSchemeHttp || Tls.ServerName.Length > 0, key, "is https:// with Discovery: Tls:ServerName must name the host its certificates are for", destination.Address);
    }

    // The files must exist and load now, each problem with its key.
    private void ValidateTls(OptionsErrors errors)
    {
        if (Tls.CaPath.Length > 0)
        {
            _ = global::Rampart.Tls.DestinationTls.LoadBundle(Tls.CaPath, errors.Key("Tls:CaPath"), out var error);
            if (error is not null)
            {
                errors.AddRange([error]);
            }
        }

        if (Tls.ClientCertificate.Path.Length > 0 || Tls.ClientCertificate.KeyPath.Length > 0)
        {
            using var _ = global::Rampart.Tls.CertificateFiles.TryLoad(Tls.ClientCertificate, errors.Key("Tls:ClientCertificate"), out var error);
            if (error is not null)
            {
                errors.AddRange([error]);
            }
        }

        errors.Check(Tls.ServerName.Length == 0 || Uri.CheckHostName(Tls.ServerName) == UriHostNameType.Dns, "Tls:ServerName", "must be a host name", Tls.ServerName);
    }
}

/// <summary>One destination of a cluster.</summary>
public sealed class DestinationOptions : FreezableOptions
{
    /// <summary>The destination's base address, such as <c>http://127.0.0.1:9001</c>. Required; absolute http or https.</summary>
    public string Address { get; set => field = Settable(value); } = "";

    /// <summary>
    /// How the addresses behind <see cref="Address"/>'s host are found: <c>None</c>, <c>Dns</c> or <c>DnsSrv</c> (see
    /// <see cref="ClusterOptions.Discovery"/>); the cluster's when empty (default).
    /// </summary>
    public string Discovery { get; set => field = Settable(value); } = "";
}

/// <summary>Failover: when a failed attempt is tried again on another destination.</summary>
public sealed class RetryOptions : FreezableOptions
{
    /// <summary>Attempts per request, the first included; each on a different destination. Default 3; 1 (no failover) to 10.</summary>
    public int MaxAttempts { get; set => field = Settable(value); } = 3;

    /// <summary>Retries allowed as a share of recent requests (the retry budget), on top of <see cref="MinRetriesPerWindow"/>. Default 0.2; 0 to 1.</summary>
    public double BudgetRatio { get; set => field = Settable(value); } = 0.2;

    /// <summary>Retries always allowed per 10 s window, however few the requests. Default 10; at least 0.</summary>
    public int MinRetriesPerWindow { get; set => field = Settable(value); } = 10;

    /// <summary>A request body up to this size is buffered so that it can be sent again. Default 64 KiB; 0 to 100 MiB.</summary>
    public long MaxBufferedBodyBytes { get; set => field = Settable(value); } = 64 * 1024;
}
