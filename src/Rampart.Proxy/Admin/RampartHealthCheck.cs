using Microsoft.Extensions.Diagnostics.HealthChecks;
using Rampart.Clusters;

namespace Rampart.Proxy.Admin;

/// <summary>Rampart's own health: ready when its configuration is loaded and at least one cluster has an available destination.</summary>
internal sealed class RampartHealthCheck(RampartProxy proxy) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var result = Check(proxy.Clusters); // the proxy's own: its readiness
        if (proxy.Fleet is { } fleet)
        {
            // A degraded fleet is detail, not ill health: the replica serves on its own decisions.
            var data = new Dictionary<string, object>(result.Data) { ["fleet"] = fleet.Connected ? $"connected ({fleet.View.Live.Count} live replicas)" : $"degraded since {fleet.DegradedSince:O}: Redis unreachable, this replica decides alone" };
            result = new HealthCheckResult(result.Status, result.Description, result.Exception, data);
        }

        return Task.FromResult(result);
    }

    /// <summary>Healthy when some cluster of <paramref name="clusters"/> has an available destination; each cluster's count in the data.</summary>
    public static HealthCheckResult Check(IEnumerable<ClusterState> clusters)
    {
        var data = new Dictionary<string, object>();
        var anyAvailable = false;
        foreach (var cluster in clusters)
        {
            var available = cluster.Destinations.Count(d => d.IsAvailable);
            anyAvailable |= available > 0;
            data[cluster.Id] = $"{available}/{cluster.Destinations.Count} destinations available";
        }

        return anyAvailable
            ? HealthCheckResult.Healthy("destinations available", data)
            : HealthCheckResult.Unhealthy("no cluster has an available destination", data: data);
    }

    /// <summary>A health report of Rampart's check alone, for an application without health checks of its own.</summary>
    public static HealthReport Report(IEnumerable<ClusterState> clusters)
    {
        var result = Check(clusters);
        var entry = new HealthReportEntry(result.Status, result.Description, TimeSpan.Zero, result.Exception, result.Data);
        return new HealthReport(new Dictionary<string, HealthReportEntry> { ["rampart"] = entry }, TimeSpan.Zero);
    }
}
