using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Rampart.Http.Tests;

/// <summary>ValidateOnStart for the handler: a host whose Rampart client options are invalid does not start, and says every problem with its key.</summary>
public sealed class StartValidationTests
{
    [Fact]
    public async Task InvalidOptionsInCode_HostDoesNotStart_EveryProblemNamed()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddHttpClient("fine").AddRampart(o => o.Cluster.Destinations["a"] = new() { Address = "http://127.0.0.1:9001" });
        builder.Services.AddHttpClient("catalog").AddRampart(o =>
        {
            o.Cluster.Destinations["a"] = new() { Address = "not a url" };
            o.Cluster.Retry.MaxAttempts = 0;
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Equal("catalog", error.OptionsName);
        Assert.Contains(error.Failures, f => f.StartsWith("catalog:Destinations:a:Address", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("catalog:Retry:MaxAttempts", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ValueThatDoesNotConvert_HostDoesNotStart_TheKeyNamed()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Clients:catalog:Destinations:a:Address"] = "http://127.0.0.1:9001",
            ["Clients:catalog:AttemptTimeout"] = "soon",
        }).Build();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddHttpClient("catalog").AddRampart(configuration.GetSection("Clients:catalog"));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Clients:catalog:AttemptTimeout", Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discovery_IsTheProxys_TheHandlerRefusesIt()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddHttpClient("catalog").AddRampart(o =>
        {
            o.Cluster.Destinations["a"] = new() { Address = "http://catalog.internal:9001", Discovery = "Dns" };
            o.Cluster.Destinations["b"] = new() { Address = "http://127.0.0.1:9001", Discovery = "None" };
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Equal("catalog:Destinations:a:Discovery must be None: the HttpClient handler does not discover destinations (the proxy does) (was Dns)", Assert.Single(error.Failures));
    }

    [Fact]
    public async Task ValidOptions_HostStarts()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddHttpClient("catalog").AddRampart(o => o.Cluster.Destinations["a"] = new() { Address = "http://127.0.0.1:9001" });
        using var host = builder.Build();
        await host.StartAsync();
        await host.StopAsync();
    }
}
