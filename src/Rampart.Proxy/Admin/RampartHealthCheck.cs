using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Rampart.Proxy.Admin;

/// <summary>Rampart's own health: ready when its configuration is loaded and at least one cluster has an available destination.</summary>
internal sealed class RampartHealthCheck(RampartProxy proxy) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>();
        var anyAvailable = false;
        foreach (var cluster in proxy.Clusters) // the proxy's own: its readiness
        {
            var available = cluster.Destinations.Count(d => d.IsAvailable);
            anyAvailable |= available > 0;
            data[cluster.Id] = $"{available}/{cluster.Destinations.Count} destinations available";
        }

        return Task.FromResult(anyAvailable
            ? HealthCheckResult.Healthy("configuration loaded; destinations available", data)
            : HealthCheckResult.Unhealthy("no cluster has an available destination", data: data));
    }
}
