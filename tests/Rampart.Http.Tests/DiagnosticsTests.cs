using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Http.Tests;

/// <summary>An application that uses only the HttpClient handler gets the proxy's transition logs and metrics: they belong to the cluster.</summary>
public sealed class DiagnosticsTests
{
    [Fact]
    public async Task HttpClientOnly_DestinationDies_TransitionLogged_AndCounted_AndProbesMeasured()
    {
        await using var alive = await TestBackend.StartAsync("b0");
        await using var dying = await TestBackend.StartAsync("b1");
        var logs = new LogCapture();
        var measured = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Rampart")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, _, _) => measured.Add(instrument.Name));
        listener.SetMeasurementEventCallback<double>((instrument, _, _, _) => measured.Add(instrument.Name));
        listener.Start();

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        logs.AddTo(builder.Logging);
        builder.Services.AddHttpClient("catalog", c => c.BaseAddress = new Uri("http://catalog")).AddRampart(o =>
        {
            o.Cluster.Destinations["b0"] = new() { Address = alive.Address.ToString() };
            o.Cluster.Destinations["b1"] = new() { Address = dying.Address.ToString() };
            var active = o.Cluster.HealthCheck.Active;
            active.Enabled = true;
            active.Path = "/health";
            active.Interval = TimeSpan.FromMilliseconds(200);
            active.UnhealthyInterval = TimeSpan.FromMilliseconds(100);
        });
        using var host = builder.Build();
        await host.StartAsync();
        using var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("catalog");
        (await client.GetAsync("/first")).EnsureSuccessStatusCode(); // the cluster exists from the first call

        var wentOut = logs.WaitForAsync(e => e.EventId.Id == 1001 && e.Message.Contains("catalog/b1", StringComparison.Ordinal));
        await dying.StopAsync();
        var line = await wentOut;
        listener.RecordObservableInstruments();
        await host.StopAsync();

        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("Unhealthy", line.Message, StringComparison.Ordinal);
        Assert.Contains("rampart.transitions", measured);
        Assert.Contains("rampart.probe.duration", measured);
    }

    [Fact]
    public async Task HttpClientOnly_FailedAttempts_LoggedAsByTheProxy_OneLinePerDestinationAndKind()
    {
        await using var reset = await TestBackend.StartAsync("b0", BackendMode.Reset);
        await using var fine = await TestBackend.StartAsync("b1");
        var logs = new LogCapture();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        logs.AddTo(builder.Logging);
        builder.Services.AddHttpClient("catalog", c => c.BaseAddress = new Uri("http://catalog")).AddRampart(o =>
        {
            o.Cluster.Destinations["b0"] = new() { Address = reset.Address.ToString() };
            o.Cluster.Destinations["b1"] = new() { Address = fine.Address.ToString() };
            o.Cluster.HealthCheck.Passive.Enabled = false; // b0 keeps being picked: its failures must not multiply the warning
            o.Cluster.CircuitBreaker.ConsecutiveFailures = 1000;
        });
        using var host = builder.Build();
        using var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("catalog");
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal("ok from b1", await client.GetStringAsync($"/{i}")); // every failure on b0 fails over to b1
        }

        var entries = logs.Entries.ToArray();
        var warning = Assert.Single(entries, e => e.EventId.Id == 3004);
        Assert.Equal("Rampart.Failover", warning.Category);
        Assert.Contains("catalog: b0 failed: connection", warning.Message, StringComparison.Ordinal);
        Assert.Null(warning.Exception); // one line, no stack trace
        Assert.Equal(6, entries.Count(e => e.EventId.Id == 3002)); // each call picks twice: round robin starts every call at b0
    }
}
