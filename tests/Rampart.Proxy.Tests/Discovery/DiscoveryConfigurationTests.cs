using System.Net;
using Microsoft.Extensions.Configuration;
using Rampart.Clusters;
using Rampart.Proxy.Configuration;
using Rampart.Proxy.Discovery;

namespace Rampart.Proxy.Tests.Discovery;

/// <summary>What the discovery keys may say (each problem naming its key), and how discovered destinations are made from the configured one.</summary>
public sealed class DiscoveryConfigurationTests
{
    [Fact]
    public void InvalidDiscoverySettings_EachNamesItsKey()
    {
        var (_, errors) = Load(new()
        {
            ["Rampart:Clusters:web:Discovery"] = "Consul",
            ["Rampart:Clusters:web:Destinations:a:Address"] = "http://a.internal:8080",
            ["Rampart:Clusters:web:Destinations:a:Discovery"] = "Dnss",
            ["Rampart:Clusters:web:Destinations:srv:Address"] = "http://_http._tcp.api.internal:8080",
            ["Rampart:Clusters:web:Destinations:srv:Discovery"] = "DnsSrv",
            ["Rampart:Clusters:web:Destinations:tls:Address"] = "https://api.internal",
            ["Rampart:Clusters:web:Destinations:tls:Discovery"] = "Dns",
            ["Rampart:Dns:Servers:0"] = "dns.internal",
            ["Rampart:Dns:RefreshInterval"] = "00:00:00.500",
            ["Rampart:Dns:Timeout"] = "00:05:00",
        });

        Assert.Equal(
        [
            "Rampart:Clusters:web:Destinations:a:Discovery must be one of None, Dns, DnsSrv (was Dnss)",
            "Rampart:Clusters:web:Destinations:srv:Address must not name a port with Discovery DnsSrv: the SRV records give it (was http://_http._tcp.api.internal:8080)",
            "Rampart:Clusters:web:Destinations:tls:Address is https:// with Discovery: Tls:ServerName must name the host its certificates are for (was https://api.internal)",
            "Rampart:Clusters:web:Discovery must be one of None, Dns, DnsSrv (was Consul)",
            "Rampart:Dns:RefreshInterval must be between 00:00:01 and 1.00:00:00 (was 00:00:00.5000000)",
            "Rampart:Dns:Servers:0 must be an IP address, optionally with a port, such as 10.0.0.2 or 10.0.0.2:53 (was dns.internal)",
            "Rampart:Dns:Timeout must be between 00:00:00.100 and 00:01:00 (was 00:05:00)",
        ], errors.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Expansion_OneDestinationPerEndpoint_SchemePortAndPathKept_TheRestAsConfigured()
    {
        var (options, errors) = Load(new()
        {
            ["Rampart:Clusters:web:Destinations:api:Address"] = "http://API.internal:8080/base/",
            ["Rampart:Clusters:web:Destinations:api:Discovery"] = "Dns",
            ["Rampart:Clusters:web:Destinations:srv:Address"] = "http://_http._tcp.api.internal/v2",
            ["Rampart:Clusters:web:Destinations:srv:Discovery"] = "DnsSrv",
            ["Rampart:Clusters:web:Destinations:named:Address"] = "http://plain.internal:9000",
            ["Rampart:Clusters:web:Destinations:ip:Address"] = "http://10.0.0.9:9000",
            ["Rampart:Clusters:web:Discovery"] = "None",
            ["Rampart:Clusters:other:Destinations:x:Address"] = "http://10.0.0.10:9000",
            ["Rampart:Clusters:other:Discovery"] = "Dns", // an IP address is itself
        });
        Assert.Empty(errors);
        var names = new Dictionary<DiscoveredName, NameState>
        {
            [new(DiscoveryMode.Dns, "api.internal")] = Resolved(new IPEndPoint(IPAddress.Parse("10.0.0.5"), 0), new IPEndPoint(IPAddress.Parse("fd00::5"), 0)),
            [new(DiscoveryMode.DnsSrv, "_http._tcp.api.internal")] = Resolved(new IPEndPoint(IPAddress.Parse("10.0.0.6"), 8081)),
        };

        Assert.Equal([new(DiscoveryMode.Dns, "api.internal"), new(DiscoveryMode.DnsSrv, "_http._tcp.api.internal")], DiscoveryExpansion.Names(options));
        var expanded = DiscoveryExpansion.Expand(options, names);

        var web = expanded.Clusters["web"].Destinations.ToDictionary(d => d.Key, d => d.Value.Address);
        Assert.Equal(new Dictionary<string, string>
        {
            ["api/10.0.0.5"] = "http://10.0.0.5:8080/base/",
            ["api/fd00::5"] = "http://[fd00::5]:8080/base/",
            ["srv/10.0.0.6:8081"] = "http://10.0.0.6:8081/v2",
            ["named"] = "http://plain.internal:9000",
            ["ip"] = "http://10.0.0.9:9000",
        }, web);
        Assert.True(expanded.IsFrozen);
        Assert.Same(options.Clusters["other"].Destinations["x"].Address, expanded.Clusters["other"].Destinations["x"].Address);
    }

    [Fact]
    public void Expansion_WithoutDiscovery_IsTheConfigurationItself()
    {
        var (options, _) = Load(new() { ["Rampart:Clusters:web:Destinations:a:Address"] = "http://a.internal:8080" });

        Assert.Same(options, DiscoveryExpansion.Expand(options, new Dictionary<DiscoveredName, NameState>()));
    }

    private static NameState Resolved(params IPEndPoint[] endpoints) => NameState.Due(DateTimeOffset.UnixEpoch) with { Endpoints = endpoints };

    private static (RampartOptions Options, IReadOnlyList<string> Errors) Load(Dictionary<string, string?> settings)
    {
        settings["Rampart:Routes:0:Id"] = "all";
        settings["Rampart:Routes:0:Cluster"] = "web";
        var options = RampartConfiguration.Load(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), out var errors);
        return (options, errors);
    }
}
