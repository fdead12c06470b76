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
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
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
