using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

// Usage: YarpProxy LISTEN_PORT [--h2] BACKEND_PORT...
// --h2: HTTP/2 with prior knowledge to the backends (YARP's HttpRequest Version "2", VersionPolicy RequestVersionExact).
var port = int.Parse(args[0], CultureInfo.InvariantCulture);
var h2 = args.Contains("--h2");
var destinations = args.Skip(1).Where(a => a != "--h2").Select((p, i) => (Id: $"d{i}", Address: $"http://127.0.0.1:{p}/"))
    .ToDictionary(d => d.Id, d => new DestinationConfig { Address = d.Address });
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "all", ClusterId = "web", Match = new RouteMatch { Path = "/{**catch-all}" } }],
    [
        new ClusterConfig
        {
            ClusterId = "web",
            LoadBalancingPolicy = "RoundRobin",
            Destinations = destinations,
            HttpRequest = h2 ? new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig { Version = HttpVersion.Version20, VersionPolicy = System.Net.Http.HttpVersionPolicy.RequestVersionExact } : null,
            HealthCheck = new HealthCheckConfig
            {
                Active = new ActiveHealthCheckConfig { Enabled = true, Interval = TimeSpan.FromSeconds(1), Timeout = TimeSpan.FromMilliseconds(500), Policy = "ConsecutiveFailures", Path = "/health" },
                Passive = new PassiveHealthCheckConfig { Enabled = true, Policy = "TransportFailureRate", ReactivationPeriod = TimeSpan.FromSeconds(10) },
            },
        },
    ]);
var app = builder.Build();
app.MapReverseProxy();
await app.RunAsync();
