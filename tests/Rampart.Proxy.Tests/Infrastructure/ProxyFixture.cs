using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Rampart.Clusters;
using Rampart.Destinations;

namespace Rampart.Proxy.Tests.Infrastructure;

/// <summary>Real backends on 127.0.0.1 with Rampart in front, configured like an operator would, with short timings.</summary>
public sealed class ProxyFixture : IAsyncDisposable
{
    private RampartProxyServer? _server;

    private ProxyFixture(List<TestBackend> backends) => Backends = backends;

    public List<TestBackend> Backends { get; }

    public Uri Address { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public RampartProxy Proxy { get; private set; } = null!;

    /// <summary>The proxy's log lines, when the test gave a capture.</summary>
    public LogCapture? Logs { get; private set; }

    public IServiceProvider Services => _server!.Services;

    public ClusterState Cluster => Proxy.Clusters[0];

    public DestinationState Destination(int i) => Cluster.Destinations.Single(d => d.Id == Backends[i].Name);

    /// <summary>The default settings; a test overrides keys with <paramref name="settings"/> (null removes a key).</summary>
    public static async Task<ProxyFixture> StartAsync(int backends = 3, IDictionary<string, string?>? settings = null, HttpProtocols protocols = HttpProtocols.Http1, LogCapture? logs = null)
    {
        var started = new List<TestBackend>();
        for (var i = 0; i < backends; i++)
        {
            started.Add(await TestBackend.StartAsync($"b{i}", protocols: protocols));
        }

        var fixture = new ProxyFixture(started) { Logs = logs };
        await fixture.StartProxyAsync(settings, logs);
        return fixture;
    }

    /// <summary>The settings under Rampart:Clusters:web: short timings so that tests finish fast.</summary>
    public static Dictionary<string, string?> DefaultSettings(IEnumerable<TestBackend> backends)
    {
        var c = "Rampart:Clusters:web:";
        var settings = new Dictionary<string, string?>
        {
            ["Rampart:Routes:0:Id"] = "all",
            ["Rampart:Routes:0:Cluster"] = "web",
            [c + "HealthCheck:Active:Enabled"] = "true",
            [c + "HealthCheck:Active:Path"] = "/health",
            [c + "HealthCheck:Active:Interval"] = "00:00:00.200",
            [c + "HealthCheck:Active:UnhealthyInterval"] = "00:00:00.100",
            [c + "HealthCheck:Active:Timeout"] = "00:00:00.300",
            [c + "HealthCheck:Passive:ConsecutiveFailures"] = "3",
            [c + "HealthCheck:Passive:BaseEjectionTime"] = "00:00:02",
            [c + "CircuitBreaker:ConsecutiveFailures"] = "5",
            [c + "CircuitBreaker:BreakDuration"] = "00:00:01",
            [c + "Retry:MaxAttempts"] = "3",
            [c + "Retry:MinRetriesPerWindow"] = "1000",
            [c + "AttemptTimeout"] = "00:00:02", // a cold first request (JIT, first connections) may take longer than 0.5 s
            [c + "Timeout"] = "00:00:05",
        };
        if (Environment.GetEnvironmentVariable("RAMPART_TEST_FORWARDER") is { Length: > 0 } forwarder)
        {
            settings[c + "Forwarder"] = forwarder; // the whole suite on one data path: RAMPART_TEST_FORWARDER=Fast dotnet test
        }

        if (Environment.GetEnvironmentVariable("RAMPART_TEST_TRANSPORT") is { Length: > 0 } transport)
        {
            settings["Rampart:Server:Transport"] = transport; // and on one transport: RAMPART_TEST_TRANSPORT=Epoll
        }
        foreach (var b in backends)
        {
            settings[$"{c}Destinations:{b.Name}:Address"] = b.Address.ToString();
        }

        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        foreach (var backend in Backends)
        {
            await backend.DisposeAsync();
        }
    }

    private async Task StartProxyAsync(IDictionary<string, string?>? overrides, LogCapture? logs)
    {
        var settings = DefaultSettings(Backends);
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                settings.Remove(key);
            }
            else
            {
                settings[key] = value;
            }
        }

        _server = await RampartProxyServer.StartAsync(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), "http://127.0.0.1:0", logs is null ? null : logs.AddTo);
        Address = _server.Address;
        Proxy = _server.Proxy;
        Client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
    }
}
