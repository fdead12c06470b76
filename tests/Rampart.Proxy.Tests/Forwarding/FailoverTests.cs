using System.Net;
using Rampart.Health;
using Rampart.Proxy.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Rampart.Proxy.Tests.Forwarding;

/// <summary>Three real backends, Rampart in front, a steady load of GETs: what the client sees when backends fail.</summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task BackendKilledMidLoad_NoClientErrors_AndItGetsTrafficBackWhenRestarted()
    {
        await using var f = await ProxyFixture.StartAsync();
        var load = new Load(f.Client);
        await load.RunAsync(200);

        var killed = f.Backends[1].StopAsync();
        await load.RunUntilAsync(Task.WhenAll(killed, Wait.ForActiveAsync(f.Destination(1), ActiveHealthState.Unhealthy)));
        await load.RunAsync(300);
        var servedWhileDown = load.ServedBy.GetValueOrDefault("b1");

        var back = Wait.ForActiveAsync(f.Destination(1), ActiveHealthState.Healthy);
        await f.Backends[1].RestartAsync();
        await load.RunUntilAsync(back);
        await load.RunAsync(300);

        Report(load, "backend killed, then restarted", f);
        Assert.Empty(load.Errors);
        Assert.True(load.ServedBy.GetValueOrDefault("b1") > servedWhileDown, "the restarted backend got no traffic back");
    }

    [Fact]
    public async Task BackendAnswering500_NoClient5xx()
    {
        await using var f = await ProxyFixture.StartAsync();
        f.Backends[0].Mode = BackendMode.Error;
        var load = new Load(f.Client);

        await load.RunAsync(600);

        Report(load, "one backend answers 500", f);

        Assert.Empty(load.Errors);
        Assert.True(f.Backends[0].Requests > 0, "the failing backend was never tried: the test proves nothing");
    }

    [Fact]
    public async Task BackendHanging_NoClientErrors_EachRequestBoundedByTheAttemptTimeout()
    {
        await using var f = await ProxyFixture.StartAsync(settings: new Dictionary<string, string?>
        {
            // No active checks: only the attempt timeout, the breaker and passive ejection stand between the client and the hang.
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
            ["Rampart:Clusters:web:AttemptTimeout"] = "00:00:00.500",
        });
        f.Backends[2].Mode = BackendMode.Hang;
        var load = new Load(f.Client);

        await load.RunAsync(300);

        Report(load, "one backend hangs", f);
        Assert.Empty(load.Errors);
        Assert.True(f.Backends[2].Requests > 0, "the hanging backend was never tried");
        Assert.True(load.MaxLatency < TimeSpan.FromSeconds(4), $"a request took {load.MaxLatency} (attempt timeout 0.5 s)");
    }

    [Fact]
    public async Task BackendResettingBeforeAnswering_NoClientErrorsForGets()
    {
        await using var f = await ProxyFixture.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
        });
        f.Backends[0].Mode = BackendMode.Reset;
        var load = new Load(f.Client);

        await load.RunAsync(300);

        Report(load, "one backend resets after reading the request", f);
        Assert.Empty(load.Errors);
        Assert.True(f.Backends[0].Requests > 0);
    }

    [Fact]
    public async Task BackendResettingMidBody_AbortsTheClientsConnection()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1);
        f.Backends[0].Mode = BackendMode.ResetMidBody;

        var ex = await Record.ExceptionAsync(async () =>
        {
            using var response = await f.Client.GetAsync("/", HttpCompletionOption.ResponseHeadersRead);
            await response.Content.ReadAsByteArrayAsync();
        });

        // A truncated body is never passed off as complete.
        Assert.True(ex is HttpRequestException or IOException, $"expected the connection to be aborted, got {ex?.GetType().Name ?? "a complete response"}");
    }

    [Fact]
    public async Task BackendFlappingEverySecond_NoClientErrors()
    {
        await using var f = await ProxyFixture.StartAsync();
        var load = new Load(f.Client);
        using var stop = new CancellationTokenSource();
        var flapping = Task.Run(async () =>
        {
            for (var i = 0; i < 6; i++)
            {
                await Task.Delay(TimeSpan.FromSeconds(0.5));
                await (i % 2 == 0 ? f.Backends[1].StopAsync() : f.Backends[1].RestartAsync());
            }
        });

        await load.RunUntilAsync(flapping);

        Report(load, "one backend flaps (down/up every 0.5 s)", f);
        Assert.Empty(load.Errors);
        Assert.True(load.Sent > 100);
    }

    [Fact]
    public async Task AllBackendsDown_503WithRetryAfter_AnsweredFast()
    {
        await using var f = await ProxyFixture.StartAsync();
        var unhealthy = f.Cluster.Destinations.Select(d => Wait.ForActiveAsync(d, ActiveHealthState.Unhealthy)).ToList();
        foreach (var backend in f.Backends)
        {
            await backend.StopAsync();
        }

        await Task.WhenAll(unhealthy);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var response = await f.Client.GetAsync("/");
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "no Retry-After");
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"a 503 took {elapsed}: it should not wait on any timeout");
    }

    [Fact]
    public async Task PostToABackendThatFailsAfterReadingTheBody_IsNotReplayed()
    {
        await using var f = await ProxyFixture.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
        });
        foreach (var backend in f.Backends)
        {
            backend.Mode = BackendMode.Reset;
        }

        using var response = await f.Client.PostAsync("/orders", new StringContent("order-42"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(["order-42"], f.Backends.SelectMany(b => b.Bodies));
    }

    [Fact]
    public async Task PostToARefusingBackend_IsSentToAnother()
    {
        await using var f = await ProxyFixture.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
            ["Rampart:Clusters:web:LoadBalancing"] = "RoundRobin",
        });
        await f.Backends[0].StopAsync();

        for (var i = 0; i < 6; i++)
        {
            using var response = await f.Client.PostAsync("/orders", new StringContent($"order-{i}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // connection refused: nothing was sent, so another may take it
        }

        Assert.Equal(6, f.Backends.Sum(b => b.Bodies.Count));
    }

    [Fact]
    public async Task ClientAbort_IsNotCountedAgainstTheDestination()
    {
        var logs = new LogCapture(); // each attempt's end is logged right after it is reported: the moment to look again
        await using var f = await ProxyFixture.StartAsync(backends: 1, logs: logs, settings: new Dictionary<string, string?>
        {
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
            ["Rampart:Clusters:web:AttemptTimeout"] = "00:01:00",
            ["Rampart:Clusters:web:Timeout"] = "00:02:00",
        });
        var backend = f.Backends[0];
        backend.Mode = BackendMode.Hang;
        for (var i = 0; i < 5; i++)
        {
            backend.ExpectRequest();
            using var gaveUp = new CancellationTokenSource();
            var request = f.Client.GetAsync("/", gaveUp.Token);
            await backend.RequestArrived.WaitAsync(Wait.Generous);
            await gaveUp.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        }

        var destination = f.Destination(0);
        await Wait.UntilAsync(() => destination.InFlight == 0, "the aborted requests were reported", [logs]);
        Assert.Equal(0, destination.Failures);
        Assert.Equal(PassiveHealthState.Healthy, destination.PassiveHealth);
        Assert.Equal(CircuitBreaking.CircuitState.Closed, destination.Breaker.State);
    }

    [Fact]
    public async Task RoundRobin_SpreadsEvenlyOverHealthyBackends_AndAnUnhealthyOneGetsNothing()
    {
        await using var f = await ProxyFixture.StartAsync();
        await Task.WhenAll(f.Cluster.Destinations.Select(d => Wait.ForActiveStateAsync(d, ActiveHealthState.Healthy)));
        var even = new Load(f.Client);
        await even.RunAsync(300, workers: 1);

        var unhealthy = Wait.ForActiveAsync(f.Destination(2), ActiveHealthState.Unhealthy);
        f.Backends[2].Mode = BackendMode.Error;
        await unhealthy;
        var before = f.Backends[2].Requests;
        var twoOnly = new Load(f.Client);
        await twoOnly.RunAsync(200, workers: 1);

        Assert.Equal([100, 100, 100], new[] { "b0", "b1", "b2" }.Select(b => even.ServedBy.GetValueOrDefault(b)));
        Assert.Equal([100, 100], new[] { "b0", "b1" }.Select(b => twoOnly.ServedBy.GetValueOrDefault(b)));
        Assert.Empty(twoOnly.Errors);
        // Only probes (GET /health) reached the unhealthy backend, never a client request.
        Assert.Equal(0, twoOnly.ServedBy.GetValueOrDefault("b2"));
        Assert.True(f.Backends[2].Requests - before < 200);
    }

    private void Report(Load load, string scenario, ProxyFixture f)
    {
        Report(load, scenario);
        foreach (var d in f.Cluster.Destinations)
        {
            output.WriteLine($"  {d.Id}: {d.ActiveHealth}/{d.PassiveHealth}/{d.Breaker.State}: "
                + string.Join(" | ", d.GetTransitions().Select(t => $"{t.Signal} {t.From}->{t.To}: {t.Reason}")));
        }
    }

    private void Report(Load load, string scenario) =>
        output.WriteLine($"{scenario}: {load.Sent} requests, {load.Errors.Count} client-visible errors; served by "
            + string.Join(", ", load.ServedBy.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"))
            + (load.Errors.Count > 0 ? Environment.NewLine + string.Join(Environment.NewLine, load.Errors.Take(10)) : ""));
}
