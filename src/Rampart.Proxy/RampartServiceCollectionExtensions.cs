using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Rampart;
using Rampart.Clusters;
using Rampart.Diagnostics;
using Rampart.Health;
using Rampart.Proxy;
using Rampart.Proxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Rampart to an ASP.NET Core application.</summary>
public static class RampartServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Rampart proxy configured from the <c>Rampart</c> section of <paramref name="configuration"/>,
    /// its active health prober as a hosted service, and YARP's forwarder. Map its routes with
    /// <see cref="Microsoft.AspNetCore.Builder.RampartEndpointRouteBuilderExtensions.MapRampart"/>.
    /// </summary>
    /// <remarks>Invalid configuration throws <see cref="RampartConfigurationException"/> (listing every problem) when the proxy is first resolved.</remarks>
    public static IServiceCollection AddRampart(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        // The system's clock, but one clock read per batch of events on an epoll loop (first: YARP registers the system's).
        services.TryAddSingleton<TimeProvider>(Rampart.Proxy.Transport.LoopTime.Instance);
        services.AddHttpForwarder();
        // Rampart reports every forwarding error itself, once, attributed and rate-limited (event 3004/3005);
        // YARP's own line for each is a warning with a stack trace that any client could multiply.
        services.AddLogging(logging => logging.AddFilter("Yarp.ReverseProxy.Forwarder.HttpForwarder", LogLevel.Error));
        services.AddMetrics();
        services.AddRampartCore();
        services.TryAddSingleton(_ =>
        {
            var options = RampartConfiguration.Load(configuration, out var errors);
            return errors.Count > 0 ? throw new RampartConfigurationException(errors) : options;
        });
        services.TryAddSingleton<Rampart.Proxy.Diagnostics.AccessLog>();
        services.AddHostedService(sp => sp.GetRequiredService<Rampart.Proxy.Diagnostics.AccessLog>());
        services.TryAddSingleton(sp => new RampartProxy(
            sp.GetRequiredService<RampartOptions>(),
            sp.GetRequiredService<IHttpForwarder>(),
            sp.GetRequiredService<ActiveHealthProber>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<RampartMetrics>(),
            sp.GetRequiredService<ClusterCatalog>(),
            configuration,
            sp.GetRequiredService<ClusterDiagnostics>(),
            sp.GetRequiredService<Rampart.Proxy.Diagnostics.AccessLog>()));
        services.TryAddSingleton<Rampart.Proxy.Server.FastServer>();
        services.TryAddSingleton<Rampart.Proxy.Tls.TlsCertificates>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(RampartMetrics.MeterName, "System.Runtime").AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        // Tracing: on when an OTLP endpoint is named (read at start; validation checked it).
        if (configuration[$"{RampartOptions.SectionName}:Telemetry:Otlp:Endpoint"] is { Length: > 0 } endpoint && Uri.TryCreate(endpoint, UriKind.Absolute, out var collector))
        {
            var ratio = double.TryParse(configuration[$"{RampartOptions.SectionName}:Telemetry:SamplingRatio"], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var r) ? r : 1;
            services.AddOpenTelemetry().WithTracing(tracing => tracing
                .AddSource(Rampart.Diagnostics.RampartTracing.SourceName)
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(ratio)))
                .AddOtlpExporter(o => o.Endpoint = collector));
        }

        services.AddHealthChecks().AddCheck<Rampart.Proxy.Admin.RampartHealthCheck>("rampart");
        services.AddHostedService(sp => new Rampart.Proxy.Discovery.DiscoveryService(sp.GetRequiredService<RampartProxy>())); // first resolutions before probing and serving
        if (configuration[$"{RampartOptions.SectionName}:Fleet:Redis"] is { Length: > 0 })
        {
            // The fleet (read at start; validation checked it): after the proxy is built, before probing starts.
            services.AddHostedService(sp => new Rampart.Proxy.Fleet.FleetMember(
                sp.GetRequiredService<RampartProxy>(),
                sp.GetRequiredService<RampartOptions>().Fleet,
                sp.GetRequiredService<ActiveHealthProber>(),
                sp.GetRequiredService<ClusterDiagnostics>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>(),
                sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        }
        services.AddHostedService(sp =>
        {
            sp.GetRequiredService<RampartProxy>(); // build the clusters (and track their destinations) before probing starts
            return sp.GetRequiredService<ActiveHealthProber>();
        });
        return services;
    }

    /// <summary>
    /// Sets the application's own Kestrel server up as Rampart's proxy server: its listeners (<c>Rampart:Listen</c>,
    /// <c>Rampart:Listeners</c> with their protocols), its transport (<c>Rampart:Server:Transport</c>), <c>Rampart:Limits</c> (body and header sizes, timeouts, data rate)
    /// and no <c>Server</c> header of its own. For an application that is only a proxy
    /// (the <c>rampart</c> executable uses it); call it after <see cref="AddRampart"/>.
    /// </summary>
    public static IServiceCollection AddRampartServer(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<KestrelServerOptions>().Configure<RampartOptions>((kestrel, options) => KestrelSetup.Apply(kestrel, options, listen: null));
        services.AddSingleton<IConnectionListenerFactory, Rampart.Proxy.Transport.EpollTransportFactory>(); // binds only under Rampart:Server:Transport Epoll
        return services;
    }
}
