using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Destinations;
using Rampart.Health;
using Rampart.Proxy.Admin;
using Rampart.Proxy.Configuration;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Configuration;

/// <summary>Hot reload against real backends: the config file changes under steady load, and nobody sees an error.</summary>
public sealed class HotReloadTests : IAsyncDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"rampart-reload-{Guid.NewGuid():N}.json");
    private readonly List<TestBackend> _backends = [];
    private RampartProxyServer? _server;
    private HttpClient? _client;

    private RampartProxy Proxy => _server!.Proxy;

    [Fact]
    public async Task FileChange_UnderLoad_AddsRemovesAndRetunes_WithNoClientError()
    {
        await StartAsync(backends: 4, initial: 3, reloadOnChange: true);
        var before = Proxy.Clusters[0];
        var (oldB0, oldB2) = (Destination("b0"), Destination("b2"));
        var load = new Load(_client!);
        var stop = new TaskCompletionSource();
        var running = load.RunUntilAsync(stop.Task, maxRequests: 50_000, workers: 4);
        await Wait.UntilAsync(() => load.Sent > 100, "the load started", [load]);

        // b2 turns slow (1.5 s) so that requests are in flight on it when it is removed.
        _backends[2].Mode = BackendMode.Slow;
        await Wait.UntilAsync(() => oldB2.InFlight > 0, "a request in flight on b2", [load, _backends[2]]);
        var settings = Settings(_backends[0], _backends[1], _backends[3]);
        settings["Rampart:Clusters:web:HealthCheck:Passive:ConsecutiveFailures"] = "4";
        var reload = await NextReloadAsync(() => File.WriteAllText(_path, ToJson(settings)));

        Assert.Equal(RampartReloadOutcome.Applied, reload.Outcome);
        Assert.Contains("cluster web: destination b3 added (" + _backends[3].Address + ")", reload.Changes);
        Assert.Contains("cluster web: destination b2 removed", reload.Changes);
        Assert.Contains(reload.Changes, c => c.StartsWith("cluster web: HealthCheck:Passive changed", StringComparison.Ordinal));
        Assert.Equal(["b0", "b1", "b3"], Proxy.Clusters[0].Destinations.Select(d => d.Id));
        Assert.Equal(4, Proxy.Clusters[0].Options.HealthCheck.Passive.ConsecutiveFailures);

        // The added destination is probed at once and takes traffic.
        var b3 = Destination("b3");
        await Wait.ForActiveStateAsync(b3, ActiveHealthState.Healthy);
        await Wait.UntilAsync(() => _backends[3].Requests > 50, "b3 receives traffic", [_backends[3]]);

        // The removed one gets nothing new; what was in flight on it completes (the load counts every failure).
        await Wait.UntilAsync(() => oldB2.InFlight == 0, "b2's in-flight requests completed", [load]);
        var servedByB2 = _backends[2].Requests;
        var sent = load.Sent;
        await Wait.UntilAsync(() => load.Sent > sent + 200, "200 more requests", [load]);
        Assert.Equal(servedByB2, _backends[2].Requests);
        Assert.True(load.ServedBy.GetValueOrDefault("b2") > 0, "b2's slow requests were answered");
        var prober = _server!.Services.GetRequiredService<Rampart.Health.ActiveHealthProber>();
        Assert.False(prober.IsTracking(oldB2), "the removed destination is still probed"); // its loop was cancelled by the reload
        Assert.True(prober.IsTracking(b3));

        // b0 stays: its state carried over to the retuned destination (its health and its journal).
        var b0 = Destination("b0");
        Assert.NotSame(oldB0, b0);
        Assert.Equal(ActiveHealthState.Healthy, b0.ActiveHealth);
        Assert.Equal(oldB0.GetTransitions()[0], b0.GetTransitions()[0]);
        Assert.True(b0.Requests >= oldB0.Requests - oldB0.InFlight);
        Assert.NotSame(before, Proxy.Clusters[0]);

        stop.SetResult();
        await running;
        Assert.Empty(load.Errors);
    }

    [Fact]
    public async Task InvalidFile_IsRejectedWithTheStartMessages_AndTheRunningConfigKeepsServing()
    {
        await StartAsync(backends: 3, initial: 2, reloadOnChange: true);
        await using var admin = await RampartAdminServer.StartAsync(Proxy, TimeProvider.System, "http://127.0.0.1:0");
        using var adminClient = new HttpClient { BaseAddress = admin.Address };
        var load = new Load(_client!);
        var stop = new TaskCompletionSource();
        var running = load.RunUntilAsync(stop.Task, maxRequests: 50_000, workers: 2);

        // Not JSON at all.
        var broken = await NextReloadAsync(() => File.WriteAllText(_path, "{ \"Rampart\": { \"Routes\": [ "));
        Assert.Equal(RampartReloadOutcome.Rejected, broken.Outcome);
        Assert.Contains(Path.GetFileName(_path), Assert.Single(broken.Errors), StringComparison.Ordinal);

        // JSON, with a misspelt key and a value that does not convert: the same messages as at start.
        var settings = Settings(_backends[0], _backends[1], _backends[2]);
        settings["Rampart:Clusters:web:HealthCheck:Pasive:ConsecutiveFailures"] = "3";
        settings["Rampart:Clusters:web:Timeout"] = "soon";
        var invalid = await NextReloadAsync(() => File.WriteAllText(_path, ToJson(settings)));
        RampartConfiguration.Load(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), out var atStart);
        Assert.Equal(RampartReloadOutcome.Rejected, invalid.Outcome);
        Assert.Equal(atStart, invalid.Errors);
        Assert.Contains(invalid.Errors, e => e.Contains("Rampart:Clusters:web:HealthCheck:Pasive", StringComparison.Ordinal));
        Assert.Contains(invalid.Errors, e => e.Contains("Rampart:Clusters:web:Timeout", StringComparison.Ordinal));

        // Still serving on the old configuration; status shows the rejection.
        Assert.Equal(["b0", "b1"], Proxy.Clusters[0].Destinations.Select(d => d.Id));
        using (var response = await _client!.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var status = JsonDocument.Parse(await adminClient.GetStringAsync("/status"));
        var lastReload = status.RootElement.GetProperty("config").GetProperty("lastReload");
        Assert.Equal("Rejected", lastReload.GetProperty("outcome").GetString());
        Assert.Equal(atStart.Count, lastReload.GetProperty("errors").GetArrayLength());

        // Fixed: applied.
        var fixedUp = await NextReloadAsync(() => File.WriteAllText(_path, ToJson(Settings(_backends[0], _backends[1], _backends[2]))));
        Assert.Equal(RampartReloadOutcome.Applied, fixedUp.Outcome);
        Assert.Equal(["b0", "b1", "b2"], Proxy.Clusters[0].Destinations.Select(d => d.Id));

        stop.SetResult();
        await running;
        Assert.Empty(load.Errors);
        Assert.True(load.Sent > 0);
    }

    [Fact]
    public async Task PostConfigReload_NeedsTheToken_AppliesAndTellsWhatChanged()
    {
        await StartAsync(backends: 2, initial: 1, reloadOnChange: false, token: "s3cret");
        await using var admin = await RampartAdminServer.StartAsync(Proxy, TimeProvider.System, "http://127.0.0.1:0");
        using var adminClient = new HttpClient { BaseAddress = admin.Address };
        var settings = Settings(_backends[0], _backends[1]);
        settings["Rampart:Admin:Token"] = "s3cret";
        settings["Rampart:Routes:1:Id"] = "api";
        settings["Rampart:Routes:1:Cluster"] = "api";
        settings["Rampart:Routes:1:Match:Path"] = "/api/{**rest}";
        settings["Rampart:Clusters:api:Destinations:only-b1:Address"] = _backends[1].Address.ToString();
        File.WriteAllText(_path, ToJson(settings));

        using (var anonymous = await adminClient.PostAsync("/config/reload", content: null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        Assert.Single(Proxy.Clusters[0].Destinations);
        adminClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");
        using var applied = await adminClient.PostAsync("/config/reload", content: null);
        using var body = JsonDocument.Parse(await applied.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, applied.StatusCode);
        Assert.Equal("Applied", body.RootElement.GetProperty("outcome").GetString());
        var changes = body.RootElement.GetProperty("changes").EnumerateArray().Select(c => c.GetString()).ToList();
        Assert.Contains("cluster web: destination b1 added (" + _backends[1].Address + ")", changes);
        Assert.Contains("route api added (/api/{**rest} → api)", changes);
        Assert.Contains("cluster api added (1 destination(s))", changes);
        Assert.Equal("ok from b1", await _client!.GetStringAsync("/api/x")); // the new route, to the new cluster

        using var again = await adminClient.PostAsync("/config/reload", content: null);
        using var againBody = JsonDocument.Parse(await again.Content.ReadAsStringAsync());
        Assert.Equal("Unchanged", againBody.RootElement.GetProperty("outcome").GetString());

        File.WriteAllText(_path, "not json");
        using var rejected = await adminClient.PostAsync("/config/reload", content: null);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, rejected.StatusCode);
        Assert.Equal(2, Proxy.Clusters.Single(c => c.Id == "web").Destinations.Count);
        Assert.Equal(["web", "api"], Proxy.Catalog.Clusters.Select(c => c.Id));
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }

        File.Delete(_path);
    }

    private async Task StartAsync(int backends, int initial, bool reloadOnChange, string? token = null)
    {
        for (var i = 0; i < backends; i++)
        {
            _backends.Add(await TestBackend.StartAsync($"b{i}"));
        }

        var settings = Settings([.. _backends.Take(initial)]);
        if (token is not null)
        {
            settings["Rampart:Admin:Token"] = token;
        }

        File.WriteAllText(_path, ToJson(settings));
        var configuration = new ConfigurationBuilder().AddJsonFile(_path, optional: false, reloadOnChange).Build();
        _server = await RampartProxyServer.StartAsync(configuration, "http://127.0.0.1:0");
        _client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = _server.Address, Timeout = TimeSpan.FromSeconds(30) };
        await Task.WhenAll(Proxy.Clusters[0].Destinations.Select(d => Wait.ForActiveStateAsync(d, ActiveHealthState.Healthy)));
    }

    private static Dictionary<string, string?> Settings(params TestBackend[] backends) => ProxyFixture.DefaultSettings(backends);

    private DestinationState Destination(string id) => Proxy.Clusters.Single(c => c.Id == "web").Destinations.Single(d => d.Id == id);

    /// <summary>Does <paramref name="act"/> and completes with the reload it causes (subscribed before acting).</summary>
    private async Task<RampartReloadResult> NextReloadAsync(Action act)
    {
        var next = new TaskCompletionSource<RampartReloadResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnReloaded(RampartReloadResult result) => next.TrySetResult(result);
        Proxy.Reloaded += OnReloaded;
        try
        {
            act();
            return await next.Task.WaitAsync(Wait.Generous);
        }
        finally
        {
            Proxy.Reloaded -= OnReloaded;
        }
    }

    /// <summary>Flat configuration keys as the JSON file an operator would write (numeric keys bind as list items).</summary>
    private static string ToJson(IDictionary<string, string?> settings)
    {
        var root = new JsonObject();
        foreach (var (key, value) in settings)
        {
            var node = root;
            var parts = key.Split(':');
            foreach (var part in parts[..^1])
            {
                node = (JsonObject)(node[part] ??= new JsonObject());
            }

            node[parts[^1]] = value;
        }

        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}

/// <summary>Reloading from options (an app that builds them itself): routes change for new requests, restart-only settings are reported.</summary>
public sealed class ReloadFromOptionsTests
{
    [Fact]
    public async Task Reload_ChangedRoute_NewRequestsFollowIt_AndRestartOnlySettingsAreReported()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1);
        var settings = ProxyFixture.DefaultSettings(f.Backends);
        settings["Rampart:Routes:0:Match:Path"] = "/only/{**rest}";
        settings["Rampart:Routes:0:Match:Methods:0"] = "GET";
        settings["Rampart:Listen:0"] = "http://127.0.0.1:1";
        var options = RampartConfiguration.Load(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), out var errors);
        Assert.Empty(errors);
        using (var before = await f.Client.GetAsync("/elsewhere"))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, before.StatusCode);
        }

        Assert.NotNull(f.Proxy.EverythingForwarder); // one catch-all route: the direct path, no routing

        var result = f.Proxy.Reload(options);

        Assert.Equal(RampartReloadOutcome.Applied, result.Outcome);
        Assert.Contains("route all changed (/only/{**rest} → web)", result.Changes);
        Assert.Contains("Rampart:Listen changed: takes effect at the next start", result.Changes);
        Assert.Same(f.Cluster.Destinations[0], f.Proxy.Clusters[0].Destinations[0]); // the cluster did not change: the same state
        Assert.Null(f.Proxy.EverythingForwarder);    // a narrower route: back to routing
        using var elsewhere = await f.Client.GetAsync("/elsewhere");
        using var only = await f.Client.GetAsync("/only/x");
        using var post = await f.Client.PostAsync("/only/x", content: null);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, elsewhere.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, only.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal(RampartReloadOutcome.Unchanged, f.Proxy.Reload(options).Outcome);
    }

    [Fact]
    public async Task Reload_InvalidOptions_RejectedWithEveryProblem_NothingChanges()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1);
        var settings = ProxyFixture.DefaultSettings(f.Backends);
        settings["Rampart:Routes:0:Cluster"] = "nowhere";
        var options = RampartConfiguration.Load(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), out var atStart);
        var cluster = f.Cluster;

        var result = f.Proxy.Reload(options);

        Assert.Equal(RampartReloadOutcome.Rejected, result.Outcome);
        Assert.Equal(atStart, result.Errors);
        Assert.Same(cluster, f.Proxy.Clusters[0]);
        Assert.Equal("ok from b0", await f.Client.GetStringAsync("/"));
    }
}
