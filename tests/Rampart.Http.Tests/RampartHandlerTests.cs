using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rampart.CircuitBreaking;
using Rampart.Health;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Http.Tests;

/// <summary><c>AddHttpClient("catalog").AddRampart(...)</c> against real Kestrel destinations on 127.0.0.1.</summary>
public sealed class RampartHandlerTests : IAsyncLifetime
{
    private readonly List<TestBackend> _backends = [];
    private IHost? _host;

    public async Task InitializeAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            _backends.Add(await TestBackend.StartAsync($"b{i}"));
        }
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }

        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }
    }

    [Fact]
    public async Task KilledFailingAndHangingDestinations_CallerSeesNoFailureForGets()
    {
        var hanging = await TestBackend.StartAsync("b3", BackendMode.Hang);
        _backends.Add(hanging);
        var client = await StartAsync(o => o.Cluster.Destinations["b3"] = new() { Address = hanging.Address.ToString() });
        await _backends[0].StopAsync();          // killed
        _backends[1].Mode = BackendMode.Error;   // answers 500

        var failures = 0;
        for (var i = 0; i < 120; i++)
        {
            using var response = await client.GetAsync($"/items/{i}");
            var body = await response.Content.ReadAsStringAsync();
            failures += response.IsSuccessStatusCode && body == "ok from b2" ? 0 : 1;
        }

        Assert.Equal(0, failures);
        Assert.True(_backends[1].Requests > 0 && hanging.Requests > 0, "the failing and hanging destinations were never tried");
    }

    [Fact]
    public async Task Post_IsNotReplayedAfterItWasSent()
    {
        var client = await StartAsync(o => o.Cluster.HealthCheck.Active.Enabled = false);
        foreach (var backend in _backends)
        {
            backend.Mode = BackendMode.Reset;
        }

        await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync("/orders", new StringContent("order-7")));

        Assert.Equal(["order-7"], _backends.SelectMany(b => b.Bodies));
    }

    [Fact]
    public async Task AllDown_ThrowsTheDocumentedExceptionQuickly_ThenRecovers()
    {
        var client = await StartAsync();
        var registry = _host!.Services.GetRequiredService<RampartClientRegistry>();
        await client.GetAsync("/warm-up");
        var cluster = registry.Clusters.Single();
        foreach (var backend in _backends)
        {
            await backend.StopAsync();
        }

        await Wait.UntilAsync(() => cluster.Destinations.All(d => !d.IsAvailable), "every destination out", destinations: cluster.Destinations);
        var started = Stopwatch.GetTimestamp();
        var ex = await Assert.ThrowsAsync<NoDestinationAvailableException>(() => client.GetAsync("/items/1"));
        var elapsed = Stopwatch.GetElapsedTime(started);

        Assert.Equal("catalog", ex.ClusterId);
        Assert.True(ex.RetryAfter >= TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ex.StatusCode);
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"took {elapsed}");

        await _backends[1].RestartAsync();
        await Wait.UntilAsync(() => cluster.Destinations.Any(d => d.IsAvailable), "a destination back", destinations: cluster.Destinations);
        using var response = await client.GetAsync("/items/1");
        Assert.Equal("ok from b1", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AllDown_WithTheOption_Synthesizes503WithRetryAfter()
    {
        var client = await StartAsync(o => o.ReturnServiceUnavailable = true);
        var cluster = _host!.Services.GetRequiredService<RampartClientRegistry>().GetOrCreate("catalog", new());
        foreach (var d in cluster.Destinations)
        {
            d.Breaker.Isolate();
        }

        using var response = await client.GetAsync("/items/1");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task HandlerRotation_KeepsTheStateAndDoesNotDuplicateProbes()
    {
        await StartAsync();
        var handlers = _host!.Services.GetRequiredService<IHttpMessageHandlerFactory>();
        var registry = _host.Services.GetRequiredService<RampartClientRegistry>();
        var first = handlers.CreateHandler("catalog");
        using (var client = new HttpClient(first, disposeHandler: false) { BaseAddress = new Uri("http://catalog") })
        {
            await client.GetAsync("/one");
        }

        var cluster = registry.Clusters.Single();
        cluster.Destinations[0].Breaker.Isolate("by test");
        var second = BuildHandlerChain("catalog"); // what the factory builds when it rotates a client's handlers
        Assert.NotSame(first, second);

        using (var client = new HttpClient(second, disposeHandler: false) { BaseAddress = new Uri("http://catalog") })
        {
            for (var i = 0; i < 20; i++)
            {
                using var response = await client.GetAsync($"/items/{i}");
                Assert.NotEqual("ok from b0", await response.Content.ReadAsStringAsync());
            }
        }

        Assert.Same(cluster, registry.Clusters.Single());
        Assert.Equal(CircuitState.Isolated, cluster.Destinations[0].Breaker.State);
        Assert.Equal(3, _host.Services.GetRequiredService<ActiveHealthProber>().RunningLoops);
    }

    [Fact]
    public async Task HttpVersion2_CallsAndProbesSpeakH2cToDestinationsThatOnlySpeakIt()
    {
        var h2 = new List<TestBackend>();
        for (var i = 0; i < 2; i++)
        {
            h2.Add(await TestBackend.StartAsync($"h{i}", protocols: Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2));
        }

        _backends.AddRange(h2);
        var client = await StartAsync(o =>
        {
            o.Cluster.Destinations.Clear();
            foreach (var b in h2)
            {
                o.Cluster.Destinations[b.Name] = new() { Address = b.Address.ToString() };
            }

            o.Cluster.HttpVersion = "2";
        });
        await Wait.UntilAsync(() => h2.All(b => b.ProbeProtocols.ContainsKey("HTTP/2")), "every destination probed over HTTP/2", h2);

        var bodies = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/items/{i}");
            using var response = await client.SendAsync(request);
            bodies.Add(await response.Content.ReadAsStringAsync());
            Assert.Equal(HttpVersion.Version11, request.Version); // the caller's request is given back as it was
        }

        Assert.Equal(["ok from h0", "ok from h1"], bodies.Distinct().Order());
        Assert.All(h2, b => Assert.All(b.Seen, s => Assert.Equal("HTTP/2", s.Protocol)));
        Assert.All(h2, b => Assert.Equal(["HTTP/2"], b.ProbeProtocols.Keys));
    }

    private async Task<HttpClient> StartAsync(Action<RampartClientOptions>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddHttpClient("catalog", c => c.BaseAddress = new Uri("http://catalog"))
            .AddRampart(o =>
            {
                for (var i = 0; i < 3; i++)
                {
                    o.Cluster.Destinations[$"b{i}"] = new() { Address = _backends[i].Address.ToString() };
                }

                var active = o.Cluster.HealthCheck.Active;
                active.Enabled = true;
                active.Path = "/health";
                active.Interval = TimeSpan.FromMilliseconds(200);
                active.UnhealthyInterval = TimeSpan.FromMilliseconds(100);
                active.Timeout = TimeSpan.FromMilliseconds(300);
                o.Cluster.HealthCheck.Passive.ConsecutiveFailures = 3;
                o.Cluster.AttemptTimeout = TimeSpan.FromSeconds(2); // a cold first call (JIT, first connection) may take longer than 0.5 s
                o.Cluster.Retry.MinRetriesPerWindow = 1000;
                configure?.Invoke(o);
            });
        _host = builder.Build();
        await _host.StartAsync();
        return _host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("catalog");
    }

    // A new handler chain for a client, built as IHttpClientFactory builds one when a handler's lifetime ends (the
    // factory's rotation runs on its own timer and says nothing when it happens).
    private HttpMessageHandler BuildHandlerChain(string name)
    {
        var builder = _host!.Services.GetRequiredService<HttpMessageHandlerBuilder>();
        builder.Name = name;
        foreach (var action in _host.Services.GetRequiredService<IOptionsMonitor<HttpClientFactoryOptions>>().Get(name).HttpMessageHandlerBuilderActions)
        {
            action(builder);
        }

        return builder.Build();
    }
}
