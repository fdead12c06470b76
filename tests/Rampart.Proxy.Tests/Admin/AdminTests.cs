using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using Rampart.Destinations;
using Rampart.Health;
using Rampart.Proxy.Admin;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Admin;

/// <summary>The admin listener against a real proxy whose backends fail and recover.</summary>
public sealed class AdminTests
{
    [Fact]
    public async Task Status_AfterAFailureAndRecovery_ShowsWhatHappened()
    {
        await using var f = await ProxyFixture.StartAsync();
        await using var admin = await RampartAdminServer.StartAsync(f.Proxy, TimeProvider.System, "http://127.0.0.1:0");
        using var client = new HttpClient { BaseAddress = admin.Address };
        await Task.WhenAll(f.Cluster.Destinations.Select(d => Wait.ForActiveStateAsync(d, ActiveHealthState.Healthy)));
        await new Load(f.Client).RunAsync(30, workers: 1);

        var down = Wait.ForActiveAsync(f.Destination(1), ActiveHealthState.Unhealthy);
        await f.Backends[1].StopAsync();
        await down;
        var during = await GetStatusAsync(client);
        var back = Wait.ForActiveAsync(f.Destination(1), ActiveHealthState.Healthy);
        await f.Backends[1].RestartAsync();
        await back;
        var after = await GetStatusAsync(client);

        var b1During = Destination(during, "b1");
        Assert.False(b1During.GetProperty("available").GetBoolean());
        Assert.Equal("Unhealthy", b1During.GetProperty("activeHealth").GetString());
        Assert.Equal(f.Backends[1].Address.ToString(), b1During.GetProperty("address").GetString());
        Assert.Equal(10, Destination(during, "b0").GetProperty("requests").GetInt64());
        var b1After = Destination(after, "b1");
        Assert.True(b1After.GetProperty("available").GetBoolean());
        Assert.Equal("Healthy", b1After.GetProperty("activeHealth").GetString());
        Assert.Equal("Closed", b1After.GetProperty("circuitState").GetString());
        Assert.True(b1After.GetProperty("generation").GetInt64() >= 4);
        var reasons = b1After.GetProperty("transitions").EnumerateArray().Select(t => t.GetProperty("reason").GetString()).ToList();
        Assert.Contains("2 consecutive probe failures: connection refused", reasons);
        Assert.Contains("2 consecutive probe passes: 200", reasons);
        var lastProbe = b1After.GetProperty("active").GetProperty("lastProbe");
        Assert.True(lastProbe.GetProperty("passed").GetBoolean());
    }

    [Fact]
    public async Task Healthz_ReadyWhileADestinationIsAvailable_503WhenNone()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1);
        await using var admin = await RampartAdminServer.StartAsync(f.Proxy, TimeProvider.System, "http://127.0.0.1:0");
        using var client = new HttpClient { BaseAddress = admin.Address };

        using var ready = await client.GetAsync("/healthz");
        f.Destination(0).Breaker.Isolate();
        using var notReady = await client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        Assert.Contains("0/1 destinations available", await notReady.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_WhenConfigured_EveryAdminRequestNeedsIt()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?> { ["Rampart:Admin:Token"] = "s3cret" });
        await using var admin = await RampartAdminServer.StartAsync(f.Proxy, TimeProvider.System, "http://127.0.0.1:0");
        using var client = new HttpClient { BaseAddress = admin.Address };

        foreach (var (method, path) in new[] { ("GET", "/status"), ("GET", "/healthz"), ("POST", "/destinations/web/b0/isolate") })
        {
            using var anonymous = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            using var wrong = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "guess") } });
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        Assert.True(f.Destination(0).IsAvailable); // the refused isolate did nothing
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");
        using var allowed = await client.GetAsync("/status");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task Actions_IsolateAndReset_AreJournaledByAdmin()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 2);
        await using var admin = await RampartAdminServer.StartAsync(f.Proxy, TimeProvider.System, "http://127.0.0.1:0");
        using var client = new HttpClient { BaseAddress = admin.Address };

        using var isolated = await client.PostAsync("/destinations/web/b0/isolate", null);
        var load = new Load(f.Client);
        await load.RunAsync(20, workers: 1);
        using var reset = await client.PostAsync("/destinations/web/b0/reset", null);
        using var unknown = await client.PostAsync("/destinations/web/nope/isolate", null);

        Assert.Equal(HttpStatusCode.OK, isolated.StatusCode);
        Assert.Equal(0, load.ServedBy.GetValueOrDefault("b0"));           // isolated: no traffic
        Assert.Empty(load.Errors);
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.True(f.Destination(0).IsAvailable);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var reasons = f.Destination(0).GetTransitions().Select(t => t.Reason).ToList();
        Assert.Contains("isolated by admin", reasons);
        Assert.Contains("reset by admin", reasons);
    }

    [Fact]
    public async Task Metrics_AfterAFailureAndRecovery_CountWhatHappened()
    {
        await using var f = await ProxyFixture.StartAsync();
        var provider = f.Services.GetRequiredService<MeterProvider>();
        await using var admin = await RampartAdminServer.StartAsync(f.Proxy, TimeProvider.System, "http://127.0.0.1:0", provider);
        using var client = new HttpClient { BaseAddress = admin.Address };
        var unhealthy = Wait.ForActiveAsync(f.Destination(2), ActiveHealthState.Unhealthy);
        f.Backends[2].Mode = BackendMode.Error;
        var load = new Load(f.Client);
        await load.RunUntilAsync(unhealthy);
        await load.RunAsync(30);
        var back = Wait.ForActiveAsync(f.Destination(2), ActiveHealthState.Healthy);
        f.Backends[2].Mode = BackendMode.Ok;
        await back;

        var text = await client.GetStringAsync("/metrics");

        Assert.Empty(load.Errors);
        Assert.Matches(@"rampart_requests_total\{[^}]*destination_id=""b0""[^}]*outcome=""success""[^}]*\} [1-9]", text);
        Assert.Matches(@"rampart_requests_total\{[^}]*destination_id=""b2""[^}]*outcome=""failure""[^}]*\} [1-9]", text);
        Assert.Matches(@"rampart_retries_total\{[^}]*reason=""status""[^}]*\} [1-9]", text);
        Assert.Matches(@"rampart_transitions_total\{[^}]*destination_id=""b2""[^}]*signal=""Active""[^}]*state=""Unhealthy""[^}]*\} 1", text);
        Assert.Matches(@"rampart_transitions_total\{[^}]*destination_id=""b2""[^}]*signal=""Active""[^}]*state=""Healthy""[^}]*\} [1-9]", text);
        Assert.Matches(@"rampart_probe_duration_seconds_count\{[^}]*destination_id=""b2""[^}]*result=""fail""[^}]*\} [1-9]", text);
        Assert.Matches(@"rampart_destination_available\{[^}]*destination_id=""b2""[^}]*\} 1", text);
        Assert.Contains("rampart_attempt_duration_seconds_bucket", text, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", text, StringComparison.Ordinal); // no unbounded tag values such as URLs
    }

    [Fact]
    public async Task Metrics_NeedTheTokenToo()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?> { ["Rampart:Admin:Token"] = "s3cret" });
        await using var admin = await RampartAdminServer.StartAsync(f.Proxy, TimeProvider.System, "http://127.0.0.1:0", f.Services.GetRequiredService<MeterProvider>());
        using var client = new HttpClient { BaseAddress = admin.Address };
        using var refused = await client.GetAsync("/metrics");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");
        using var allowed = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task Drain_InFlightFinish_NoNewRequests_VisibleInStatus_ResetServesAgain()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 2, settings: new Dictionary<string, string?>
        {
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
            // The slow request (1.5 s) must finish on b0 even on a busy machine: well within the attempt timeout.
            ["Rampart:Clusters:web:AttemptTimeout"] = "00:00:05",
            ["Rampart:Clusters:web:Timeout"] = "00:00:10",
        });
        await using var admin = await RampartAdminServer.StartAsync(f.Proxy, TimeProvider.System, "http://127.0.0.1:0");
        using var client = new HttpClient { BaseAddress = admin.Address };
        f.Backends[0].Mode = BackendMode.Slow;
        f.Backends[0].ExpectRequest();
        var inFlight = Task.Run(async () =>
        {
            // Round robin: one of the first two requests lands on b0 and takes 1.5 s.
            using var first = await f.Client.GetAsync("/a");
            using var second = await f.Client.GetAsync("/b");
            return (await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        });
        await f.Backends[0].RequestArrived.WaitAsync(Wait.Generous);

        using var drained = await client.PostAsync("/destinations/web/b0/drain", null);
        var status = await GetStatusAsync(client);
        var load = new Load(f.Client);
        await load.RunAsync(20, workers: 1);
        var (a, b) = await inFlight;

        Assert.Equal(HttpStatusCode.OK, drained.StatusCode);
        Assert.True(Destination(status, "b0").GetProperty("draining").GetBoolean());
        Assert.False(Destination(status, "b0").GetProperty("available").GetBoolean());
        Assert.Contains("ok from b0", new[] { a, b });                  // the request in flight finished
        Assert.Equal(0, load.ServedBy.GetValueOrDefault("b0"));        // nothing new went to b0
        Assert.Empty(load.Errors);
        Assert.Contains(f.Destination(0).GetTransitions(), t => t.Reason == "drained by admin" && t.To.Is(AdminState.Draining));

        using var reset = await client.PostAsync("/destinations/web/b0/reset", null);
        f.Backends[0].Mode = BackendMode.Ok;
        var after = new Load(f.Client);
        await after.RunAsync(10, workers: 1);
        Assert.Equal(5, after.ServedBy.GetValueOrDefault("b0"));
    }

    [Fact]
    public async Task ShadowMode_FailingDestinationKeepsTraffic_WhileStatusShowsWhatWouldHaveHappened()
    {
        await using var f = await ProxyFixture.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
            ["Rampart:Clusters:web:HealthCheck:Passive:Enforce"] = "false",
            ["Rampart:Clusters:web:CircuitBreaker:Enforce"] = "false",
        });
        await using var admin = await RampartAdminServer.StartAsync(f.Proxy, TimeProvider.System, "http://127.0.0.1:0");
        using var client = new HttpClient { BaseAddress = admin.Address };
        f.Backends[0].Mode = BackendMode.Error;

        await new Load(f.Client).RunAsync(60, workers: 1);
        var before = f.Backends[0].Requests;
        var load = new Load(f.Client);
        await load.RunAsync(60, workers: 1);
        var b0 = Destination(await GetStatusAsync(client), "b0");

        Assert.True(f.Backends[0].Requests - before >= 15, "the failing destination stopped receiving traffic");
        Assert.Empty(load.Errors);                                       // failover still keeps the 500s from clients
        Assert.Equal("Ejected", b0.GetProperty("passiveHealth").GetString());
        Assert.NotEqual("Closed", b0.GetProperty("circuitState").GetString()); // Open, or Half-Open on a trial
        Assert.True(b0.GetProperty("available").GetBoolean());
        var reasons = b0.GetProperty("transitions").EnumerateArray().Select(t => t.GetProperty("reason").GetString()!).ToList();
        Assert.Contains(reasons, r => r.StartsWith("ejected for", StringComparison.Ordinal) && r.EndsWith("(shadow mode: not enforced)", StringComparison.Ordinal));
        Assert.Contains(reasons, r => r.StartsWith("5 consecutive failures", StringComparison.Ordinal) && r.EndsWith("(shadow mode: not enforced)", StringComparison.Ordinal));
    }

    private static async Task<JsonElement> GetStatusAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/status");
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    private static JsonElement Destination(JsonElement status, string id) =>
        status.GetProperty("clusters")[0].GetProperty("destinations").EnumerateArray().Single(d => d.GetProperty("id").GetString() == id);
}
