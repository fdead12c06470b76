using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Rampart.Clusters;
using Rampart.Proxy.Configuration;
using Rampart.Proxy.Discovery;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Discovery;

/// <summary>
/// When a discovered name is resolved again (its TTL within [1 s, RefreshInterval]; after a failure, backing off
/// while the last endpoints stay) and what is logged: the discovery on a <see cref="FakeTimeProvider"/>, asking a real
/// DNS server on loopback.
/// </summary>
public sealed class DnsScheduleTests : IAsyncDisposable
{
    private static readonly DiscoveredName Api = new(DiscoveryMode.Dns, "api.test");
    private readonly LoopbackDnsServer _dns = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
    private readonly LogCapture _logs = new();
    private readonly ILoggerFactory _loggerFactory;
    private readonly DnsDiscovery _discovery;

    public DnsScheduleTests()
    {
        _loggerFactory = LoggerFactory.Create(_logs.AddTo);
        _discovery = new DnsDiscovery(_time, _loggerFactory);
    }

    public async ValueTask DisposeAsync()
    {
        _discovery.Dispose();
        _loggerFactory.Dispose();
        await _dns.DisposeAsync();
    }

    [Theory]
    [InlineData(5, 30, 5)] // the record's TTL
    [InlineData(300, 30, 30)] // at most the refresh interval
    [InlineData(0, 30, 1)] // never sooner than 1 s
    public async Task AResolvedNameIsResolvedAgainAtItsTtl_WithinOneSecondAndTheRefreshInterval(int ttl, int refresh, int expected)
    {
        _dns.SetAddresses("api.test", ttl, IPAddress.Parse("127.0.0.2"));
        _discovery.Want(Options(refresh));

        await _discovery.RefreshDueAsync(CancellationToken.None);

        var state = _discovery.Names[Api];
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(expected), state.NextAt);
        Assert.Equal(TimeSpan.FromSeconds(ttl), state.TimeToLive);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0)], state.Endpoints);

        var queries = _dns.Queries;
        _time.Advance(TimeSpan.FromSeconds(expected) - TimeSpan.FromMilliseconds(1));
        await _discovery.RefreshDueAsync(CancellationToken.None);
        Assert.Equal(queries, _dns.Queries); // not due yet: not asked
    }

    [Fact]
    public async Task AFailingName_KeepsItsEndpoints_BacksOff_AndIsLoggedOncePerOutage()
    {
        _dns.SetAddresses("api.test", 5, IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3"));
        _discovery.Want(Options(refresh: 30));
        await _discovery.RefreshDueAsync(CancellationToken.None);
        var good = _discovery.Names[Api].Endpoints;

        _dns.Mode = DnsServerMode.ServerFailure;
        var started = _time.GetUtcNow() + TimeSpan.FromSeconds(5);
        foreach (var backoff in new[] { 1, 2, 4, 8 })
        {
            _time.SetUtcNow(_discovery.Names[Api].NextAt);
            await _discovery.RefreshDueAsync(CancellationToken.None);
            var state = _discovery.Names[Api];
            Assert.Equal(good, state.Endpoints);
            Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(backoff), state.NextAt);
            Assert.Equal(started, state.FailingSince);
            Assert.Equal("A query: Server Failure", state.Error);
        }

        _dns.Mode = DnsServerMode.Answer;
        _time.SetUtcNow(_discovery.Names[Api].NextAt);
        await _discovery.RefreshDueAsync(CancellationToken.None);

        Assert.Null(_discovery.Names[Api].Error);
        Assert.Single(_logs.Entries, e => e.EventId.Id == 7002);
        Assert.Single(_logs.Entries, e => e.EventId.Id == 7003);
    }

    [Fact]
    public async Task ANameThatResolvesToNothing_IsAFailure_TheLastEndpointsStay()
    {
        _dns.SetAddresses("api.test", 5, IPAddress.Parse("127.0.0.2"));
        _discovery.Want(Options(refresh: 30));
        await _discovery.RefreshDueAsync(CancellationToken.None);

        _dns.SetAddresses("api.test", 5); // NXDOMAIN: a DNS outage may look the same as a scale to zero; Rampart keeps serving
        _time.Advance(TimeSpan.FromSeconds(5));
        await _discovery.RefreshDueAsync(CancellationToken.None);

        Assert.Equal("no address records", _discovery.Names[Api].Error);
        Assert.Single(_discovery.Names[Api].Endpoints);
    }

    [Fact]
    public async Task ChangedDnsSettings_MakeEveryNameDueAtOnce()
    {
        _dns.SetAddresses("api.test", 300, IPAddress.Parse("127.0.0.2"));
        _discovery.Want(Options(refresh: 30));
        await _discovery.RefreshDueAsync(CancellationToken.None);
        var queries = _dns.Queries;

        _discovery.Want(Options(refresh: 60));
        await _discovery.RefreshDueAsync(CancellationToken.None);

        Assert.True(_dns.Queries > queries);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(60), _discovery.Names[Api].NextAt);
    }

    private RampartOptions Options(int refresh)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Rampart:Routes:0:Id"] = "all",
            ["Rampart:Routes:0:Cluster"] = "web",
            ["Rampart:Clusters:web:Discovery"] = "Dns",
            ["Rampart:Clusters:web:Destinations:api:Address"] = "http://api.test:8080",
            ["Rampart:Clusters:web:Destinations:fixed:Address"] = "http://127.0.0.9:8080",
            ["Rampart:Dns:Servers:0"] = _dns.Endpoint,
            ["Rampart:Dns:RefreshInterval"] = TimeSpan.FromSeconds(refresh).ToString(),
        }).Build();
        var options = RampartConfiguration.Load(configuration, out var errors);
        Assert.Empty(errors);
        return options;
    }
}
