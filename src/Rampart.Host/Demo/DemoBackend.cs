using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Rampart.Host.Demo;

/// <summary>What a demo backend is doing.</summary>
internal enum DemoFault
{
    /// <summary>Answers 200.</summary>
    None,

    /// <summary>The process is gone: connections are refused.</summary>
    Killed,

    /// <summary>Answers 500 to everything.</summary>
    Failing,

    /// <summary>Accepts requests and never answers.</summary>
    Hanging,
}

/// <summary>An in-process backend on a free loopback port whose failure mode switches while it runs.</summary>
internal sealed class DemoBackend(string name) : IAsyncDisposable
{
    private WebApplication? _app;
    private long _served;
    private volatile DemoFault _fault;

    public string Name { get; } = name;

    public int Port { get; private set; }

    public Uri Address => new($"http://127.0.0.1:{Port}");

    public DemoFault Fault => _fault;

    /// <summary>Client requests answered with 200 (probes not counted).</summary>
    public long Served => Interlocked.Read(ref _served);

    /// <summary>Raised when a client request is answered with 200.</summary>
    public event Action<DemoBackend>? ServedOne;

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.Zero);
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync();
        Port = new Uri(app.Urls.First()).Port;
        _app = app;
        _fault = DemoFault.None;
    }

    public async Task SetAsync(DemoFault fault)
    {
        if (fault == DemoFault.Killed)
        {
            _fault = fault;
            await StopAsync();
        }
        else if (_fault == DemoFault.Killed)
        {
            await StartAsync(); // same port: the proxy's configuration still points here
            _fault = fault;
        }
        else
        {
            _fault = fault;
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            using var now = new CancellationTokenSource();
            await now.CancelAsync();
            await app.StopAsync(now.Token);
            await app.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        switch (_fault)
        {
            case DemoFault.Failing:
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                await context.Response.WriteAsync("failing on purpose");
                return;
            case DemoFault.Hanging:
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    // The proxy gave up on us, as it should.
                }

                return;
        }

        await context.Response.WriteAsync($"hello from {Name}");
        if (!context.Request.Path.StartsWithSegments("/health"))
        {
            Interlocked.Increment(ref _served);
            ServedOne?.Invoke(this);
        }
    }
}
