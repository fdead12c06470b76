using System.Net;
using Rampart.Proxy.Admin;
using Rampart.Proxy.Discovery;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Discovery;

/// <summary>
/// DNS discovery end to end: a real DNS server on loopback (<see cref="LoopbackDnsServer"/>) whose records the test
/// changes, real Kestrel backends on 127.0.0.2-5 (one port, as pods behind a headless service), Rampart in front
/// with a steady load.
/// </summary>
public sealed class DnsDiscoveryTests : IAsyncLifetime
{
    private readonly LoopbackDnsServer _dns = new();
    private readonly List<TestBackend> _backends = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }

        await _dns.DisposeAsync();
    }

    [Fact]
    public async Task ScaleUp_ScaleDown_AndAResolverOutage_WithoutAClientError()
    {
        var (b2, b3, b4) = (await BackendAsync(2), await BackendAsync(3), await BackendAsync(4));
        _dns.SetAddresses("api.test", ttl: 1, b2.Host, b3.Host);
        await using var f = await ProxyAsync("http://api.test:" + b2.Port);
        using var resolutions = new Resolutions(f.Proxy.Discovery);
        Assert.Equal(["api/127.0.0.2", "api/127.0.0.3"], Ids(f)); // resolved before the host started serving

        var load = new Load(f.Client);
        var done = new TaskCompletionSource();
        var running = load.RunUntilAsync(done.Task, maxRequests: 100_000);

        // Scale-up: the new address serves within a refresh, starting Unknown and probed at once.
        _dns.SetAddresses("api.test", ttl: 1, b2.Host, b3.Host, b4.Host);
        await Wait.UntilAsync(() => load.ServedBy.ContainsKey("b4"), "the added address serves", [load]);

        // Scale-down: an address leaves DNS (its backend still finishing what it has), then its backend stops.
        _dns.SetAddresses("api.test", ttl: 1, b3.Host, b4.Host);
        await Wait.UntilAsync(() => !Ids(f).Contains("api/127.0.0.2"), "the removed address leaves the cluster", [resolutions]);
        await b2.StopAsync();

        // A resolver outage (SERVFAIL, then no answer at all): the last good set stays, and /status says why.
        _dns.Mode = DnsServerMode.ServerFailure;
        await Wait.UntilAsync(() => Name(f).Error is not null, "the failure shows in /status", [resolutions]);
        _dns.Mode = DnsServerMode.Silent;
        var queries = _dns.Queries;
        await Wait.UntilAsync(() => _dns.Queries >= queries + 2 && load.ServedBy.GetValueOrDefault("b3") > 50, "resolutions keep failing under load", [_dns, load]);
        Assert.Equal(["api/127.0.0.3", "api/127.0.0.4"], Ids(f));
        Assert.NotNull(Name(f).FailingSince);

        _dns.Mode = DnsServerMode.Answer;
        await Wait.UntilAsync(() => Name(f).Error is null, "the name resolves again", [resolutions]);

        done.SetResult();
        await running;
        Assert.Empty(load.Errors);
        Assert.Equal(["127.0.0.3", "127.0.0.4"], Name(f).Endpoints);
    }

    [Fact]
    public async Task Srv_EachTargetAndPortIsADestination_TheLowestPriorityOnly()
    {
        var (one, two, backup) = (await BackendAsync(1, port: 0), await BackendAsync(1, port: 0), await BackendAsync(1, port: 0));
        _dns.SetAddresses("node-a.test", ttl: 30, IPAddress.Loopback);
        _dns.SetAddresses("node-b.test", ttl: 30, IPAddress.Loopback);
        _dns.SetService("_http._tcp.api.test", ttl: 30, priority: 10, ("node-a.test", one.Port), ("node-b.test", two.Port));
        _dns.SetService("_http._tcp.api.test", ttl: 30, priority: 20, ("node-a.test", backup.Port));

        await using var f = await ProxyAsync("http://_http._tcp.api.test", ("Destinations:api:Discovery", "DnsSrv"), ("Discovery", null));

        Assert.Equal([$"api/127.0.0.1:{Math.Min(one.Port, two.Port)}", $"api/127.0.0.1:{Math.Max(one.Port, two.Port)}"], Ids(f));
        var load = new Load(f.Client);
        await load.RunAsync(40);
        Assert.Empty(load.Errors);
        Assert.Equal(["b1"], load.ServedBy.Keys); // all three are named b1: every answer came from one of them...
        Assert.Equal(0, backup.Requests); // ...and never from the backup
        Assert.True(one.Requests > 0 && two.Requests > 0);
    }

    [Fact]
    public async Task ResolverDownAtStart_TheProxyStartsAnd503s_ThenServesOnceTheNameResolves()
    {
        var b2 = await BackendAsync(2);
        _dns.Mode = DnsServerMode.Silent;
        await using var f = await ProxyAsync("http://api.test:" + b2.Port, ("HealthCheck:Active:Interval", "00:00:00.100"));
        using var resolutions = new Resolutions(f.Proxy.Discovery);

        Assert.Empty(Ids(f));
        using (var refused = await f.Client.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        Assert.Contains("timed out", Name(f).Error, StringComparison.OrdinalIgnoreCase);

        _dns.SetAddresses("api.test", ttl: 1, b2.Host);
        _dns.Mode = DnsServerMode.Answer;
        await Wait.UntilAsync(() => Ids(f).Count == 1, "the name resolves (retried with backoff)", [resolutions]);
        Assert.Equal("ok from b2", await f.Client.GetStringAsync("/"));
    }

    [Fact]
    public async Task ADiscoveredDestinationKeepsItsState_WhenAnotherAddressJoins()
    {
        var (b2, b3) = (await BackendAsync(2), await BackendAsync(3));
        _dns.SetAddresses("api.test", ttl: 1, b2.Host);
        await using var f = await ProxyAsync("http://api.test:" + b2.Port);
        using var resolutions = new Resolutions(f.Proxy.Discovery);
        await using var admin = await RampartAdminServer.StartAsync(f.Proxy, TimeProvider.System, "http://127.0.0.1:0");
        using var client = new HttpClient { BaseAddress = admin.Address };

        using (var isolated = await client.PostAsync("/destinations/web/" + Uri.EscapeDataString("api/127.0.0.2") + "/isolate", null))
        {
            Assert.Equal(HttpStatusCode.OK, isolated.StatusCode);
        }

        _dns.SetAddresses("api.test", ttl: 1, b2.Host, b3.Host);
        await Wait.UntilAsync(() => Ids(f).Count == 2, "the second address joins", [resolutions]);

        Assert.Equal("Isolated", f.Cluster.Destinations.Single(d => d.Id == "api/127.0.0.2").Breaker.State.ToString());
        var load = new Load(f.Client);
        await load.RunAsync(20);
        Assert.Empty(load.Errors);
        Assert.Equal(["b3"], load.ServedBy.Keys);
    }

    [Fact]
    public async Task ARemovedAddress_FinishesTheRequestsItHas()
    {
        var (b2, b3) = (await BackendAsync(2), await BackendAsync(3));
        _dns.SetAddresses("api.test", ttl: 1, b2.Host);
        await using var f = await ProxyAsync("http://api.test:" + b2.Port, ("AttemptTimeout", "00:00:05")); // the slow answer (1.5 s) and a cold first request fit
        using var resolutions = new Resolutions(f.Proxy.Discovery);
        b2.Mode = BackendMode.Slow; // answers after 1.5 s
        b2.ExpectRequest();
        var inFlight = f.Client.GetAsync("/");
        await b2.RequestStarted.WaitAsync(Wait.Generous); // the request, not a probe

        _dns.SetAddresses("api.test", ttl: 1, b3.Host); // b2 leaves while its request runs
        await Wait.UntilAsync(() => Ids(f).SequenceEqual(["api/127.0.0.3"]), "b2 replaced by b3", [resolutions]);
        Assert.False(inFlight.IsCompleted);

        using var response = await inFlight;
        Assert.Equal("200 ok from b2", $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("ok from b3", await f.Client.GetStringAsync("/"));
    }

    private static List<string> Ids(ProxyFixture f) => [.. f.Cluster.Destinations.Select(d => d.Id).Order(StringComparer.Ordinal)];

    private static DiscoveryStatus Name(ProxyFixture f) => Assert.Single(StatusDocument.From(f.Proxy, TimeProvider.System).Discovery!);

    // Backends on 127.0.0.N, all on the first one's port (as the pods behind one name); port 0 for one of its own.
    private async Task<TestBackend> BackendAsync(int n, int? port = null)
    {
        var backend = await TestBackend.StartAsync("b" + n, IPAddress.Parse("127.0.0." + n), port ?? _backends.FirstOrDefault(b => b.Host.ToString() != "127.0.0.1")?.Port ?? 0);
        _backends.Add(backend);
        return backend;
    }

    private Task<ProxyFixture> ProxyAsync(string address, params (string Key, string? Value)[] cluster)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Rampart:Dns:Servers:0"] = _dns.Endpoint,
            ["Rampart:Dns:Timeout"] = "00:00:00.200",
            ["Rampart:Clusters:web:Discovery"] = "Dns",
            ["Rampart:Clusters:web:Destinations:api:Address"] = address,
        };
        foreach (var (key, value) in cluster)
        {
            settings["Rampart:Clusters:web:" + key] = value;
        }

        return ProxyFixture.StartAsync(backends: 0, settings: settings);
    }

    /// <summary>Progress: each pass of the discovery loop (after the proxy applied what it changed).</summary>
    private sealed class Resolutions : IProgressSource, IDisposable
    {
        private readonly DnsDiscovery _discovery;

        public Resolutions(DnsDiscovery discovery)
        {
            _discovery = discovery;
            _discovery.Resolved += OnResolved;
        }

        public event Action? Progressed;

        public void Dispose() => _discovery.Resolved -= OnResolved;

        private void OnResolved() => Progressed?.Invoke();
    }
}
