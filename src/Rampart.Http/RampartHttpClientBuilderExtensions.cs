using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Rampart;
using Rampart.Configuration;
using Rampart.Http;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Rampart to an <see cref="HttpClient"/> built by <c>IHttpClientFactory</c>.</summary>
public static class RampartHttpClientBuilderExtensions
{
    /// <summary>
    /// Sends the client's calls (to its logical address, such as <c>http://catalog/items/1</c>) to the configured
    /// destinations, with per-destination health, breakers, balancing and failover. Active probes run as a hosted service.
    /// </summary>
    public static IHttpClientBuilder AddRampart(this IHttpClientBuilder builder, Action<RampartClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(builder.Name, configure);
        return AddHandler(builder);
    }

    /// <summary>Like <see cref="AddRampart(IHttpClientBuilder, Action{RampartClientOptions})"/>, with the cluster bound from a configuration section (the same shape as a proxy cluster).</summary>
    public static IHttpClientBuilder AddRampart(this IHttpClientBuilder builder, IConfiguration clusterSection)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(clusterSection);
        builder.Services.Configure<RampartClientOptions>(builder.Name, o =>
        {
            // The proxy's reader (unit durations, unknown keys, every problem with its key); never throws from the options
            // pipeline: the registry reports what it found (at first use it throws, on a reload the running cluster stays).
            var path = clusterSection is IConfigurationSection section ? section.Path : "";
            var errors = new List<string>();
            if (ConfigurationTree.Read(clusterSection, path, clusterSection.AsEnumerable()) is { } tree)
            {
                new OptionsReader(errors).Bind(tree, o.Cluster);
            }

            o.BindError = errors.Count > 0 ? string.Join("; ", errors) : null;
        });
        // The options follow the section: when it reloads, the client's cluster is reconfigured (RampartClientRegistry).
        builder.Services.AddSingleton<IOptionsChangeTokenSource<RampartClientOptions>>(new SectionChangeTokenSource(builder.Name, clusterSection));
        return AddHandler(builder);
    }

    private static IHttpClientBuilder AddHandler(IHttpClientBuilder builder)
    {
        var services = builder.Services;
        services.AddMetrics();
        services.AddRampartCore(); // the clock, catalog, instruments, diagnostics and prober the proxy shares, when both run
        services.TryAddSingleton<RampartClientRegistry>();
        var name = builder.Name;
        services.AddSingleton(new RampartClientName(name));
        // Before the prober: a host whose client options are invalid does not start (every problem, each with its key).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Hosting.IHostedService, RampartClientValidation>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Hosting.IHostedService, RampartProberService>());
        return builder.AddHttpMessageHandler(sp =>
        {
            var options = sp.GetRequiredService<IOptionsMonitor<RampartClientOptions>>().Get(name);
            var client = sp.GetRequiredService<RampartClientRegistry>().GetClient(name, options);
            return new RampartHandler(client, sp.GetRequiredService<TimeProvider>());
        });
    }

    private sealed class SectionChangeTokenSource(string name, IConfiguration section) : IOptionsChangeTokenSource<RampartClientOptions>
    {
        public string Name => name;

        public Primitives.IChangeToken GetChangeToken() => section.GetReloadToken();
    }
}
