using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Http.Tests;

/// <summary>The handler follows its configuration section: a reload reconfigures the client's cluster with the proxy's carry-over rules.</summary>
public sealed class ReloadTests
{
    private const string Section = "Rampart:Clusters:catalog";

    [Fact]
    public async Task SectionChanges_DestinationAddedAndRemoved_TheOneThatStaysKeepsItsState_InvalidChangeRejected()
    {
        await using var b0 = await TestBackend.StartAsync("b0");
        await using var b1 = await TestBackend.StartAsync("b1");
        await using var b2 = await TestBackend.StartAsync("b2");
        var settings = new Dictionary<string, string?>
        {
            [$"{Section}:Destinations:b0:Address"] = b0.Address.ToString(),
            [$"{Section}:Destinations:b1:Address"] = b1.Address.ToString(),
            [$"{Section}:AttemptTimeout"] = "2s", // the proxy's file format, unit durations included
        };
        var source = new SwitchableSource(settings);
        var configuration = new ConfigurationBuilder().Add(source).Build();
        var logs = new LogCapture();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        logs.AddTo(builder.Logging);
        builder.Services.AddHttpClient("catalog", c => c.BaseAddress = new Uri("http://catalog")).AddRampart(configuration.GetSection(Section));
        using var host = builder.Build();
        await host.StartAsync();
        using var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("catalog");
        var registry = host.Services.GetRequiredService<RampartClientRegistry>();
        for (var i = 0; i < 10; i++)
        {
            (await client.GetAsync($"/before/{i}")).EnsureSuccessStatusCode();
        }

        var stays = registry.Clusters.Single().Destinations.Single(d => d.Id == "b1");
        Assert.Equal(TimeSpan.FromSeconds(2), registry.Clusters.Single().Options.AttemptTimeout);

        // b0 leaves, b2 joins: one change of the section.
        var reloaded = logs.WaitForAsync(e => e.EventId.Id == 4011);
        settings.Remove($"{Section}:Destinations:b0:Address");
        settings[$"{Section}:Destinations:b2:Address"] = b2.Address.ToString();
        source.Provider.Replace(settings);
        await reloaded;
        var b0Before = b0.Seen.Count;
        var served = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            served.Add(await client.GetStringAsync($"/after/{i}"));
        }

        Assert.Equal(b0Before, b0.Seen.Count); // removed: no more calls
        Assert.Contains("ok from b2", served);
        Assert.Contains("ok from b1", served);
        var cluster = registry.Clusters.Single();
        Assert.Equal(["b1", "b2"], cluster.Destinations.Select(d => d.Id).Order());
        Assert.Same(stays, cluster.Destinations.Single(d => d.Id == "b1")); // same rules: the very same state, counts and all

        // An invalid change is rejected; the running cluster stays.
        var rejected = logs.WaitForAsync(e => e.EventId.Id == 4012);
        settings[$"{Section}:Retry:MaxAttempts"] = "99";
        source.Provider.Replace(settings);
        Assert.Contains("Retry:MaxAttempts must be between 1 and 10", (await rejected).Message, StringComparison.Ordinal);
        Assert.Same(cluster, registry.Clusters.Single());
        (await client.GetAsync("/still")).EnsureSuccessStatusCode();

        // A value that does not even convert: rejected the same way, never thrown into the configuration's reload.
        var unconvertible = logs.WaitForAsync(e => e.EventId.Id == 4012 && e.Message.Contains("AttemptTimeout", StringComparison.Ordinal));
        settings[$"{Section}:Retry:MaxAttempts"] = "3";
        settings[$"{Section}:AttemptTimeout"] = "soon";
        source.Provider.Replace(settings);
        await unconvertible;
        Assert.Same(cluster, registry.Clusters.Single());
        (await client.GetAsync("/still-after")).EnsureSuccessStatusCode();
        await host.StopAsync();
    }

    /// <summary>An in-memory configuration whose whole content can be replaced, with the reload a file change would raise.</summary>
    private sealed class SwitchableSource(IDictionary<string, string?> initial) : IConfigurationSource
    {
        public SwitchableProvider Provider { get; } = new(initial);

        public IConfigurationProvider Build(IConfigurationBuilder builder) => Provider;
    }

    private sealed class SwitchableProvider : ConfigurationProvider
    {
        public SwitchableProvider(IDictionary<string, string?> data) => Replace(data, raise: false);

        public void Replace(IDictionary<string, string?> data, bool raise = true)
        {
            Data = new Dictionary<string, string?>(data, StringComparer.OrdinalIgnoreCase);
            if (raise)
            {
                OnReload();
            }
        }
    }
}
