using System.Net;
using Rampart.Configuration;

namespace Rampart.Proxy.Discovery;

/// <summary>
/// How destinations with <c>Discovery</c> <c>Dns</c> or <c>DnsSrv</c> are resolved (<c>Rampart:Dns</c>). Applies at once on reload.
/// </summary>
public sealed class DnsOptions : FreezableOptions
{
    /// <summary>
    /// The DNS servers asked, each <c>IP</c> or <c>IP:PORT</c> (<c>[IPv6]:PORT</c>), in order. Default none: the
    /// machine's (<c>/etc/resolv.conf</c>).
    /// </summary>
    public IList<string> Servers { get; private set; } = [];

    /// <summary>
    /// The longest a resolution stands before the name is resolved again; a record whose time to live is shorter is
    /// resolved again when it expires (never sooner than 1 s). Default 30 s; 1 s to 1 day.
    /// </summary>
    public TimeSpan RefreshInterval { get; set => field = Settable(value); } = TimeSpan.FromSeconds(30);

    /// <summary>How long one query may wait for its answer. Default 2 s; 100 ms to 1 min.</summary>
    public TimeSpan Timeout { get; set => field = Settable(value); } = TimeSpan.FromSeconds(2);

    /// <summary>The servers as endpoints (port 53 when none is named); only for validated options.</summary>
    internal IReadOnlyList<IPEndPoint> ServerEndpoints() => [.. Servers.Select(s => Parse(s)!)];

    internal IReadOnlyList<string> Validate(string prefix)
    {
        var errors = new List<string>();
        for (var i = 0; i < Servers.Count; i++)
        {
            if (Parse(Servers[i]) is null)
            {
                errors.Add($"{prefix}:Servers:{i} must be an IP address, optionally with a port, such as 10.0.0.2 or 10.0.0.2:53 (was {Servers[i]})");
            }
        }

        if (RefreshInterval < TimeSpan.FromSeconds(1) || RefreshInterval > TimeSpan.FromDays(1))
        {
            errors.Add($"{prefix}:RefreshInterval must be between 00:00:01 and 1.00:00:00 (was {RefreshInterval})");
        }

        if (Timeout < TimeSpan.FromMilliseconds(100) || Timeout > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{prefix}:Timeout must be between 00:00:00.100 and 00:01:00 (was {Timeout})");
        }

        return errors;
    }

    private static IPEndPoint? Parse(string server) =>
        IPAddress.TryParse(server, out var address) ? new IPEndPoint(address, 53)
        : IPEndPoint.TryParse(server, out var endpoint) && endpoint.Port != 0 ? endpoint
        : null;
}
