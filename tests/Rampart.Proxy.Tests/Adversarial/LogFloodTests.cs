using Microsoft.Extensions.Logging;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Adversarial;

/// <summary>No client can multiply a log line: its errors are debug lines at most; a destination's failure is one warning line, rate-limited.</summary>
public sealed class LogFloodTests
{
    [Fact]
    public async Task ClientCausedErrors_OnlyDebugLines_NoWarningFromAnyCategory()
    {
        var logs = new LogCapture();
        await using var f = await ProxyFixture.StartAsync(settings: AttackCatalog.Settings, logs: logs);
        string[] attacks = ["CONNECT to a host", "chunked body with a garbage chunk size", "POST body stalled after 5 of 100 bytes", "Content-Length over the body limit", "chunked body growing over the body limit"];

        foreach (var name in attacks)
        {
            await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => AttackCatalog.All[name].SendAsync(f.Address)));
        }

        var loud = logs.Entries.Where(e => e.Level >= LogLevel.Warning).ToList();
        Assert.True(loud.Count == 0, "lines at warning or above: " + string.Join(" | ", loud.Take(3).Select(e => $"{e.Category} {e.EventId.Id}: {e.Message}")));
        Assert.Contains(logs.Entries, e => e.EventId.Id == 3005 && e.Level == LogLevel.Debug); // attributed to the client, said once at debug
        Assert.Contains(logs.Entries, e => e.EventId.Id == 3006 && e.Level == LogLevel.Debug); // refused without forwarding
    }

    [Fact]
    public async Task DestinationFailingOverAndOver_OneWarningLine_WithoutStackTrace()
    {
        var logs = new LogCapture();
        await using var f = await ProxyFixture.StartAsync(backends: 2, logs: logs, settings: new Dictionary<string, string?>
        {
            // Nothing takes the dead backend out: every request tries it first, fails, and fails over.
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
            ["Rampart:Clusters:web:HealthCheck:Passive:Enabled"] = "false",
            ["Rampart:Clusters:web:CircuitBreaker:ConsecutiveFailures"] = "0",
            ["Rampart:Clusters:web:CircuitBreaker:FailureRatio"] = "1",
            ["Rampart:Clusters:web:CircuitBreaker:MinimumThroughput"] = "100000",
        });
        await f.Backends[0].StopAsync();

        for (var i = 0; i < 60; i++)
        {
            using var response = await f.Client.GetAsync($"/x/{i}");
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }

        Assert.True(f.Destination(0).Failures >= 25, "the dead backend was hardly tried: the test proves nothing");
        var warnings = logs.Entries.Where(e => e.Level >= LogLevel.Warning).ToList();
        var line = Assert.Single(warnings);
        Assert.Equal(3004, line.EventId.Id);
        Assert.Null(line.Exception);
        Assert.DoesNotContain('\n', line.Message);
        Assert.Contains("connection refused", line.Message, StringComparison.Ordinal);
    }
}
