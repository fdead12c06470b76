using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rampart.Proxy.Configuration;
using Rampart.Proxy.Transport;

namespace Rampart.Proxy;

/// <summary>A Rampart proxy on a Kestrel server of its own, in process: for demos, tests and embedding.</summary>
public sealed class RampartProxyServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RampartProxyServer(WebApplication app)
    {
        _app = app;
        Addresses = [.. app.Urls.Select(url => new Uri(url))];
        Address = Addresses[0];
        Proxy = app.Services.GetRequiredService<RampartProxy>();
    }

    /// <summary>Where the proxy listens (with the real port when the requested one was 0).</summary>
    public Uri Address { get; }

    /// <summary>Every address the proxy listens on, in the order of <c>Rampart:Listen</c> then <c>Rampart:Listeners</c>.</summary>
    public IReadOnlyList<Uri> Addresses { get; }

    /// <summary>The running proxy.</summary>
    public RampartProxy Proxy { get; }

    /// <summary>The server's services (the meter provider for an admin server, for example).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a proxy configured by the <c>Rampart</c> section of <paramref name="configuration"/>.</summary>
    /// <param name="configuration">The configuration.</param>
    /// <param name="listen">A URL overriding <c>Rampart:Listen</c>, such as <c>http://127.0.0.1:0</c>.</param>
    /// <param name="logging">Adds log providers and filters; no logging when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="RampartConfigurationException">The configuration is invalid.</exception>
    public static async Task<RampartProxyServer> StartAsync(IConfiguration configuration, string? listen = null, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.Configuration.AddConfiguration(configuration);
        builder.Services.AddRampart(builder.Configuration);
        builder.Services.AddOptions<KestrelServerOptions>().Configure<RampartOptions>((kestrel, options) => KestrelSetup.Apply(kestrel, options, listen));
        builder.Services.AddSingleton<IConnectionListenerFactory, EpollTransportFactory>(); // binds only under Rampart:Server:Transport Epoll
        var app = builder.Build();
        app.UseRampartDirectPath();
        app.UseRouting();
        app.MapRampart();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return new RampartProxyServer(app);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
