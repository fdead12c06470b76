using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

// Usage: Backend PORT
// Every path: 200 "hello". For the soak run, `POST /__mode/{ok|error|hang}` switches what it does
// from then on: error answers 500, hang accepts and never answers (until the client gives up).
var port = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
var builder = WebApplication.CreateSlimBuilder();
if (Environment.GetEnvironmentVariable("BACKEND_LOG") != "1") { builder.Logging.ClearProviders(); } else { builder.Logging.SetMinimumLevel(LogLevel.Debug); }
builder.WebHost.ConfigureKestrel(k =>
{
    k.Listen(IPAddress.Loopback, port);
    // HAProxy 2.6 sends `:scheme https` over cleartext HTTP/2 to servers; Kestrel refuses that unless told to allow it.
    k.AllowAlternateSchemes = true;
    // The same backend over HTTP/2 without TLS (prior knowledge), on PORT + 1000.
    k.Listen(IPAddress.Loopback, port + 1000, listen => listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
});
var app = builder.Build();
var body = "hello"u8.ToArray();
var mode = "ok";
app.Run(context =>
{
    var path = context.Request.Path.Value ?? "";
    if (path.StartsWith("/__mode/", StringComparison.Ordinal) && HttpMethods.IsPost(context.Request.Method))
    {
        Volatile.Write(ref mode, path["/__mode/".Length..]);
        return Task.CompletedTask;
    }

    switch (Volatile.Read(ref mode))
    {
        case "error":
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        case "hang":
            return Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        default:
            context.Response.ContentLength = body.Length;
            return context.Response.Body.WriteAsync(body).AsTask();
    }
});
await app.RunAsync();
