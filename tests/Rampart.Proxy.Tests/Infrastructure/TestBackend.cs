using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Rampart.Proxy.Tests.Infrastructure;

/// <summary>What a <see cref="TestBackend"/> does with each request; switchable while it runs.</summary>
public enum BackendMode
{
    /// <summary>200 with "ok from {name}".</summary>
    Ok,

    /// <summary>500.</summary>
    Error,

    /// <summary>200 with a body that is not "ok".</summary>
    WrongBody,

    /// <summary>Accepts and never answers (until the client gives up or the backend stops).</summary>
    Hang,

    /// <summary>Reads the request, then resets the connection without answering.</summary>
    Reset,

    /// <summary>Answers like <see cref="Ok"/>, after 1.5 s.</summary>
    Slow,

    /// <summary>Sends the headers and part of the body (Content-Length promises more), then resets the connection.</summary>
    ResetMidBody,

    /// <summary>Answers 200 with a 16 MB body (health probes get "ok").</summary>
    Large,

    /// <summary>Resets the connection as soon as a request's head arrives, without reading its body.</summary>
    ResetAtOnce,
}

/// <summary>A real Kestrel server on 127.0.0.1 whose failure mode switches at run time; it can be stopped and restarted on its port.</summary>
public sealed class TestBackend : IAsyncDisposable, IProgressSource
{
    private WebApplication? _app;
    private int _requests;
    private int _aborted;
    private TaskCompletionSource _requestArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _requestStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _abortSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TestBackend(string name, HttpProtocols protocols, IPAddress? host = null)
    {
        Name = name;
        Protocols = protocols;
        Host = host ?? IPAddress.Loopback;
    }

    /// <summary>The loopback address it listens on: 127.0.0.1 unless another was asked (DNS discovery tests give each backend its own).</summary>
    public IPAddress Host { get; }

    /// <summary>What the backend speaks: HTTP/1.1 by default; <see cref="HttpProtocols.Http2"/> alone is HTTP/2 with prior knowledge (h2c).</summary>
    public HttpProtocols Protocols { get; }

    /// <summary>For each request received (health probes apart): its protocol and the id of the connection it came on.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(string Protocol, string Connection)> Seen { get; } = new();

    /// <summary>The path of each request received (health probes apart).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Paths { get; } = new();

    /// <summary>The protocols health probes came in.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, int> ProbeProtocols { get; } = new();

    public string Name { get; }

    public int Port { get; private set; }

    public Uri Address => new($"http://{Host}:{Port}");

    private volatile BackendMode _mode;

    /// <summary>What the backend does with each request from now on.</summary>
    public BackendMode Mode
    {
        get => _mode;
        set => _mode = value;
    }

    /// <summary>Raised when a request arrives and when it has been answered.</summary>
    public event Action? Progressed;

    /// <summary>Requests received so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Hanging requests whose client went away.</summary>
    public int Aborted => Volatile.Read(ref _aborted);

    /// <summary>Completes when the next request arrives (reset by <see cref="ExpectRequest"/>).</summary>
    public Task RequestArrived => _requestArrived.Task;

    /// <summary>Completes when a hanging request is aborted by its client.</summary>
    public Task AbortSeen => _abortSeen.Task;

    public static async Task<TestBackend> StartAsync(string name, BackendMode mode = BackendMode.Ok, HttpProtocols protocols = HttpProtocols.Http1)
    {
        var backend = new TestBackend(name, protocols) { Mode = mode };
        await backend.StartAsync(0);
        return backend;
    }

    /// <summary>Starts a backend on <paramref name="host"/> (an address of 127.0.0.0/8) and <paramref name="port"/> (0: any free one).</summary>
    public static async Task<TestBackend> StartAsync(string name, IPAddress host, int port)
    {
        var backend = new TestBackend(name, HttpProtocols.Http1, host);
        await backend.StartAsync(port);
        return backend;
    }

    /// <summary>Completes when the next request's head arrives, before its body is read (reset by <see cref="ExpectRequest"/>).</summary>
    public Task RequestStarted => _requestStarted.Task;

    public void ExpectRequest()
    {
        _requestArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _requestStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Stops at once: open connections are dropped, new ones refused.</summary>
    public async Task StopAsync()
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

    /// <summary>Starts again on the same port.</summary>
    public Task RestartAsync() => StartAsync(Port);

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task StartAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(Host, port, listen => listen.Protocols = Protocols));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.Zero);
        var app = builder.Build();
        app.UseWebSockets();
        app.Run(HandleAsync);
        await app.StartAsync();
        Port = new Uri(app.Urls.First()).Port;
        _app = app;
    }

    /// <summary>A WebSocket that echoes each text message; on "die" the backend drops the connection.</summary>
    private static async Task EchoAsync(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (received.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    return;
                }

                if (System.Text.Encoding.UTF8.GetString(buffer, 0, received.Count) == "die")
                {
                    context.Abort();
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, received.Count), System.Net.WebSockets.WebSocketMessageType.Text, true, context.RequestAborted);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.WebSockets.WebSocketException or IOException)
        {
            // the client went away
        }
    }

    /// <summary>The path of each health probe received (replicas of a fleet probe at paths of their own in tests).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> ProbePaths { get; } = new();

    /// <summary>A health path answered 503 whatever the mode (the probes of one replica that cannot reach it); null for none.</summary>
    public string? RefuseProbesAt { get; set; }

    /// <summary>Request bodies received, in order (POSTs only).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Bodies { get; } = new();

    /// <summary>Whether to keep the headers of each request (in <see cref="LastHeaders"/>).</summary>
    public bool CaptureHeaders { get; set; }

    /// <summary>The headers of the latest request, when <see cref="CaptureHeaders"/>.</summary>
    public Dictionary<string, string>? LastHeaders { get; private set; }

    private async Task HandleAsync(HttpContext context)
    {
        try
        {
            await ServeAsync(context);
        }
        finally
        {
            Progressed?.Invoke();
        }
    }

    private async Task ServeAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        if (context.WebSockets.IsWebSocketRequest)
        {
            await EchoAsync(context);
            return;
        }

        if (context.Request.Path.StartsWithSegments("/health"))
        {
            ProbeProtocols.AddOrUpdate(context.Request.Protocol, 1, (_, n) => n + 1);
            ProbePaths.Enqueue(context.Request.Path.Value ?? "");
            if (RefuseProbesAt is { } refused && context.Request.Path == refused)
            {
                context.Response.StatusCode = 503; // only this prober's path: one replica's broken view of a healthy backend
                return;
            }
        }
        else
        {
            Seen.Enqueue((context.Request.Protocol, context.Connection.Id));
            Paths.Enqueue(context.Request.Path.Value ?? "");
            _requestStarted.TrySetResult();
        }

        Progressed?.Invoke();

        if (CaptureHeaders && !context.Request.Path.StartsWithSegments("/health"))
        {
            LastHeaders = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        }

        if (HttpMethods.IsPost(context.Request.Method) && Mode != BackendMode.ResetAtOnce)
        {
            using var reader = new StreamReader(context.Request.Body);
            Bodies.Enqueue(await reader.ReadToEndAsync());
        }

        _requestArrived.TrySetResult();
        switch (Mode)
        {
            case BackendMode.Ok:
                await context.Response.WriteAsync($"ok from {Name}");
                break;
            case BackendMode.Error:
                context.Response.StatusCode = 500;
                await context.Response.WriteAsync("failing");
                break;
            case BackendMode.Slow:
                if (!context.Request.Path.StartsWithSegments("/health"))
                {
                    await Task.Delay(TimeSpan.FromSeconds(1.5));
                }

                await context.Response.WriteAsync($"ok from {Name}");
                break;
            case BackendMode.WrongBody:
                await context.Response.WriteAsync("nope");
                break;
            case BackendMode.Hang:
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref _aborted);
                    _abortSeen.TrySetResult();
                }

                break;
            case BackendMode.Reset:
                await context.Request.Body.CopyToAsync(Stream.Null); // the whole request reached the backend
                context.Abort();
                break;
            case BackendMode.Large when !context.Request.Path.StartsWithSegments("/health"):
                var chunk = new byte[64 * 1024];
                for (var i = 0; i < 256; i++)
                {
                    await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
                }

                break;
            case BackendMode.Large:
                await context.Response.WriteAsync("ok");
                break;
            case BackendMode.ResetAtOnce:
                context.Abort();
                break;
            case BackendMode.ResetMidBody:
                context.Response.ContentLength = 100_000;
                await context.Response.WriteAsync(new string('x', 1000));
                await context.Response.Body.FlushAsync();
                // Let the bytes reach the proxy first: a reset discards data not yet read by the peer.
                await Task.Delay(TimeSpan.FromMilliseconds(200));
                context.Abort();
                break;
        }
    }
}
