using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Rampart.Clusters;
using Rampart.Diagnostics;
using Rampart.Health;

namespace Rampart;

/// <summary>The services every Rampart package shares in one process, registered once whichever package comes first.</summary>
internal static class RampartCoreServices
{
    /// <summary>The clock, the catalog of clusters, the instruments, the diagnostics and the one prober (its probes measured). Needs <c>AddMetrics()</c>.</summary>
    public static IServiceCollection AddRampartCore(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ClusterCatalog>();
        services.TryAddSingleton(sp => new RampartMetrics(sp.GetRequiredService<IMeterFactory>(), sp.GetRequiredService<ClusterCatalog>()));
        services.TryAddSingleton(sp => new ClusterDiagnostics(sp.GetService<ILoggerFactory>(), sp.GetRequiredService<RampartMetrics>()));
        services.TryAddSingleton(sp =>
        {
            var prober = new ActiveHealthProber(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ActiveHealthProber>>());
            sp.GetRequiredService<ClusterDiagnostics>().Watch(prober);
            return prober;
        });
        return services;
    }
}
