using Rampart.Destinations;
using Rampart.Proxy.Admin;

namespace Rampart.Proxy.Tests.Infrastructure;

/// <summary>A proxy with real backends, its admin listener on a free port, and a client of that listener.</summary>
public sealed class AdminFixture : IAsyncDisposable
{
    private AdminFixture(ProxyFixture proxy, RampartAdminServer admin)
    {
        Proxy = proxy;
        Admin = admin;
        Client = new HttpClient { BaseAddress = admin.Address };
    }

    public ProxyFixture Proxy { get; }

    public RampartAdminServer Admin { get; }

    public HttpClient Client { get; }

    public static async Task<AdminFixture> StartAsync(int backends = 1, IDictionary<string, string?>? settings = null)
    {
        var proxy = await ProxyFixture.StartAsync(backends, settings);
        return new AdminFixture(proxy, await RampartAdminServer.StartAsync(proxy.Proxy, TimeProvider.System, "http://127.0.0.1:0"));
    }

    public DestinationState Destination(int i) => Proxy.Destination(i);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Admin.DisposeAsync();
        await Proxy.DisposeAsync();
    }
}
