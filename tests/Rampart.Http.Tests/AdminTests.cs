using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Http.Tests;

/// <summary>An application that uses only the HttpClient handler maps Rampart's admin endpoints and sees (and acts on) its clusters.</summary>
public sealed class AdminTests
{
    [Fact]
    public async Task HttpClientOnlyApp_MapRampartAdmin_StatusShowsItsCluster_DrainActs_HealthzAnswers()
    {
        await using var b0 = await TestBackend.StartAsync("b0");
        await using var b1 = await TestBackend.StartAsync("b1");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddHttpClient("catalog", c => c.BaseAddress = new Uri("http://catalog")).AddRampart(o =>
        {
            o.Cluster.Destinations["b0"] = new() { Address = b0.Address.ToString() };
            o.Cluster.Destinations["b1"] = new() { Address = b1.Address.ToString() };
        });
        await using var app = builder.Build();
        app.MapRampartAdmin(token: "secret");
        await app.StartAsync();
        using var admin = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", "secret");
        using var catalog = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient("catalog");
        (await catalog.GetAsync("/first")).EnsureSuccessStatusCode(); // the client's cluster exists from its first call

        using var status = JsonDocument.Parse(await admin.GetStringAsync("/status"));
        var cluster = Assert.Single(status.RootElement.GetProperty("clusters").EnumerateArray());
        Assert.Equal("catalog", cluster.GetProperty("id").GetString());
        Assert.Equal(2, cluster.GetProperty("destinations").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, status.RootElement.GetProperty("config").ValueKind); // no proxy configuration here

        var drained = await admin.PostAsync("/destinations/catalog/b0/drain", null);
        Assert.Equal(HttpStatusCode.OK, drained.StatusCode);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("ok from b1", await catalog.GetStringAsync($"/after/{i}")); // the drained one takes no new calls
        }

        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync("/config/reload", null)).StatusCode);
        admin.DefaultRequestHeaders.Authorization = null;
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.GetAsync("/status")).StatusCode);
    }
}
