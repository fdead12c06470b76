using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace Rampart.Proxy.Admin;

/// <summary>The admin listener: a Kestrel server of its own, apart from the proxy's listeners, serving the admin endpoints of one <see cref="RampartProxy"/>.</summary>
public sealed class RampartAdminServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RampartAdminServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>Where the admin endpoints listen (with the real port when the configured one was 0).</summary>
    public Uri Address { get; }

    /// <summary>Starts the admin listener on <c>Rampart:Admin:Listen</c> (or <paramref name="listen"/>) for <paramref name="proxy"/>.</summary>
    /// <param name="proxy">The running proxy whose state the endpoints show.</param>
    /// <param name="timeProvider">The clock the proxy runs on.</param>
    /// <param name="listen">A URL overriding the configured one (tests and the demo use port 0).</param>
    /// <param name="meterProvider">The proxy's OpenTelemetry meter provider, for <c>GET /metrics</c>; none when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<RampartAdminServer> StartAsync(RampartProxy proxy, TimeProvider timeProvider, string? listen = null, MeterProvider? meterProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var address = listen ?? proxy.Options.Admin.Listen;
        builder.WebHost.UseUrls(address);
        builder.Services.AddSingleton(proxy);
        builder.Services.AddSingleton(timeProvider);
        builder.Services.AddHealthChecks().AddCheck<RampartHealthCheck>("rampart");
        var app = builder.Build();
        var admin = proxy.Options.Admin;
        app.Use(new AdminGuard(admin.Token, AdminGuard.HostsFor(new Uri(address), admin.AllowedHosts)).Middleware);
        app.MapRampartAdmin();
        if (meterProvider is not null)
        {
            app.MapPrometheusScrapingEndpoint("/metrics", meterProvider, configureBranchedPipeline: null, optionsName: null);
        }

        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return new RampartAdminServer(app, new Uri(app.Urls.First()));
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
