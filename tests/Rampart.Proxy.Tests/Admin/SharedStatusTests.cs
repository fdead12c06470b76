using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Http;
using Rampart.Proxy.Admin;

namespace Rampart.Proxy.Tests.Admin;

public sealed class SharedStatusTests
{
    [Fact]
    public void ProxyAndHttpClientInOneProcess_BothAppearInStatus()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Rampart:Routes:0:Id"] = "all",
            ["Rampart:Routes:0:Cluster"] = "web",
            ["Rampart:Clusters:web:Destinations:a:Address"] = "http://127.0.0.1:9001",
            ["Catalog:Destinations:x:Address"] = "http://127.0.0.1:9101",
            ["Catalog:Destinations:y:Address"] = "http://127.0.0.1:9102",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddRampart(configuration);
        services.AddHttpClient("catalog").AddRampart(configuration.GetSection("Catalog"));
        using var provider = services.BuildServiceProvider();

        var proxy = provider.GetRequiredService<RampartProxy>();
        using var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("catalog"); // builds the client's cluster

        var status = StatusDocument.From(proxy, TimeProvider.System);
        Assert.Equal(["web", "catalog"], status.Clusters.Select(c => c.Id));
        Assert.Equal(["x", "y"], status.Clusters[1].Destinations.Select(d => d.Id));
        Assert.Single(provider.GetRequiredService<RampartClientRegistry>().Clusters);
    }
}
