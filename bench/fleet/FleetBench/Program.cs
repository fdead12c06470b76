// The fleet's figures: dotnet run -c Release --project bench/fleet/FleetBench -- [trials]
// Starts Debian's redis-server on a free loopback port, six loopback backends and in-process replicas (each its own
// RampartProxyServer: listener, state, fleet member), and stops everything it started.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Rampart.Destinations;
using Rampart.Proxy;
using Rampart.Proxy.Admin;

var trials = args.Length > 0 ? int.Parse(args[0]) : 20;
var redisPort = FreePort();
using var redis = Process.Start(new ProcessStartInfo("redis-server", ["--port", redisPort.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]) { RedirectStandardOutput = true })!;
await Task.Delay(500);
var backends = new List<Backend>();
for (var i = 0; i < 6; i++)
{
    backends.Add(await Backend.StartAsync("b" + i));
}

try
{
    await ExclusionAsync(trials);
    await MessagesAsync();
    await ProbesAsync();
}
finally
{
    foreach (var b in backends)
    {
        await b.StopAsync();
    }

    redis.Kill();
}

// A: from a backend's death to its exclusion on every replica, with traffic on one replica only.
async Task ExclusionAsync(int count)
{
    var replicas = await ReplicasAsync(3, "excl", probeReplicas: 2);
    using var client = new HttpClient { BaseAddress = replicas[0].Address };
    var errors = 0;
    using var stop = new CancellationTokenSource();
    var load = Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var r = await client.GetAsync("/");
                if (!r.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref errors);
                }
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref errors);
            }
        }
    }));
    var verdict = new List<double>();
    var spread = new List<double>();
    var excluded = new List<double>();
    var recovered = new List<double>();
    var trialsSent = new List<int>();
    for (var t = 0; t < count; t++)
    {
        var dead = backends[1 + (t % 5)];
        var states = replicas.Select(r => r.Proxy.Clusters[0].Destinations.Single(d => d.Id == dead.Name)).ToArray();
        var firstOut = new TaskCompletionSource<long>();
        var suspected = states.Skip(1).Select(_ => new TaskCompletionSource<long>()).ToArray();
        void OnFirst(DestinationTransition tr)
        {
            if (tr.To.IsOut)
            {
                firstOut.TrySetResult(Stopwatch.GetTimestamp());
            }
        }

        states[0].Changed += OnFirst;
        for (var i = 1; i < states.Length; i++)
        {
            var tcs = suspected[i - 1];
            var state = states[i];
            state.Changed += _ =>
            {
                if (!state.IsAvailable)
                {
                    tcs.TrySetResult(Stopwatch.GetTimestamp()); // suspect (r1's word), or its own signals (a prober's probe)
                }
            };
        }

        var sentBefore = replicas.Sum(r => Status(r).MessagesSent);
        var t0 = Stopwatch.GetTimestamp();
        await dead.StopAsync();
        var tOut = await firstOut.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var tSuspect = (await Task.WhenAll(suspected.Select(s => s.Task.WaitAsync(TimeSpan.FromSeconds(60))))).Max();
        await Until(() => states.All(s => !s.IsAvailable && (s.FleetState == FleetState.Excluded || s.IsHeldOutHere)));
        var tExcluded = Stopwatch.GetTimestamp();
        verdict.Add(Ms(t0, tOut));
        spread.Add(Ms(tOut, tSuspect));
        excluded.Add(Ms(t0, tExcluded));
        states[0].Changed -= OnFirst;

        var tBack = Stopwatch.GetTimestamp();
        await dead.StartAgainAsync();
        await Until(() => states.All(s => s.IsAvailable && s.FleetState == FleetState.Trusted));
        recovered.Add(Ms(tBack, Stopwatch.GetTimestamp()));
        trialsSent.Add((int)(replicas.Sum(r => Status(r).MessagesSent) - sentBefore));
    }

    await stop.CancelAsync();
    await load;
    Console.WriteLine($"## Exclusion: {count} trials, 3 replicas, traffic on r1 only, defaults (Heartbeat 1 s, probes every 5 s / 1 s unhealthy, ProbeReplicas 2, passive 5 consecutive failures)");
    Console.WriteLine();
    Console.WriteLine("| from the backend's death (ms) | median | p99 (max of 20) |");
    Console.WriteLine("| --- | ---: | ---: |");
    Row("r1's own verdict (passive ejection or breaker, under its traffic)", verdict);
    Row("r2 and r3 stop using it, after r1's verdict", spread);
    Row("excluded or held out on every replica", excluded);
    Row("back on every replica after the backend restarts", recovered);
    Console.WriteLine();
    Console.WriteLine($"client errors on r1 during all trials: {errors}; messages sent per trial (verdicts and probe results, all replicas): median {Median(trialsSent.Select(x => (double)x).ToList()):0}");
    Console.WriteLine();
    foreach (var r in replicas)
    {
        await r.DisposeAsync();
    }
}

// C: messages for one transition (an isolate on r1 and its reset), probes sharded off so that only verdicts travel.
async Task MessagesAsync()
{
    var replicas = await ReplicasAsync(3, "msgs", probeReplicas: 0, interval: "00:01:00");
    var target = replicas[0].Proxy.Clusters[0].Destinations[2];
    (long Sent, long Received) Totals() => (replicas.Sum(r => Status(r).MessagesSent), replicas.Sum(r => Status(r).MessagesReceived));
    await Task.Delay(2000);
    var before = Totals();
    target.Breaker.Isolate("bench");
    await Task.Delay(2000);
    var isolated = Totals();
    target.Reset("bench");
    await Task.Delay(2000);
    var reset = Totals();
    Console.WriteLine("## Redis messages per transition (3 replicas, an isolate on r1, then its reset)");
    Console.WriteLine();
    Console.WriteLine("| transition | published | delivered |");
    Console.WriteLine("| --- | ---: | ---: |");
    Console.WriteLine($"| isolate | {isolated.Sent - before.Sent} | {isolated.Received - before.Received} |");
    Console.WriteLine($"| reset | {reset.Sent - isolated.Sent} | {reset.Received - isolated.Received} |");
    Console.WriteLine();
    foreach (var r in replicas)
    {
        await r.DisposeAsync();
    }
}

// B: probes per second reaching the backends, by replica count, sharded (ProbeReplicas 2) and not (0).
async Task ProbesAsync()
{
    Console.WriteLine("## Probes per second (6 destinations, probe interval 1 s)");
    Console.WriteLine();
    Console.WriteLine("| replicas | every replica probes (ProbeReplicas 0) | sharded (ProbeReplicas 2) |");
    Console.WriteLine("| ---: | ---: | ---: |");
    foreach (var n in new[] { 1, 3, 10 })
    {
        var unsharded = await ProbeRateAsync(n, 0);
        var sharded = await ProbeRateAsync(n, 2);
        Console.WriteLine($"| {n} | {unsharded:0.0} | {sharded:0.0} |");
    }

    Console.WriteLine();
}

async Task<double> ProbeRateAsync(int n, int probeReplicas)
{
    var replicas = await ReplicasAsync(n, $"probes{n}x{probeReplicas}", probeReplicas, interval: "00:00:01");
    await Task.Delay(4000); // every replica live in every view
    var before = backends.Sum(b => b.Probes);
    var started = Stopwatch.GetTimestamp();
    await Task.Delay(10_000);
    var rate = (backends.Sum(b => b.Probes) - before) / Stopwatch.GetElapsedTime(started).TotalSeconds;
    foreach (var r in replicas)
    {
        await r.DisposeAsync();
    }

    return rate;
}

async Task<List<RampartProxyServer>> ReplicasAsync(int n, string fleet, int probeReplicas, string interval = "00:00:05")
{
    var replicas = new List<RampartProxyServer>();
    for (var i = 1; i <= n; i++)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Rampart:Admin:Listen"] = "",
            ["Rampart:Routes:0:Id"] = "all",
            ["Rampart:Routes:0:Cluster"] = "web",
            ["Rampart:Fleet:Redis"] = $"127.0.0.1:{redisPort}",
            ["Rampart:Fleet:Name"] = fleet + "-" + Environment.ProcessId,
            ["Rampart:Fleet:ReplicaId"] = "r" + i,
            ["Rampart:Fleet:ProbeReplicas"] = probeReplicas.ToString(),
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "true",
            ["Rampart:Clusters:web:HealthCheck:Active:Path"] = "/health",
            ["Rampart:Clusters:web:HealthCheck:Active:Interval"] = interval,
        };
        foreach (var b in backends)
        {
            settings[$"Rampart:Clusters:web:Destinations:{b.Name}:Address"] = b.Address;
        }

        replicas.Add(await RampartProxyServer.StartAsync(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), "http://127.0.0.1:0"));
    }

    return replicas;
}

static FleetStatus Status(RampartProxyServer replica) => StatusDocument.From(replica.Proxy, TimeProvider.System).Fleet!;

static async Task Until(Func<bool> condition)
{
    var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 120);
    while (!condition())
    {
        if (Stopwatch.GetTimestamp() > deadline)
        {
            throw new TimeoutException("the fleet did not settle within 2 minutes");
        }

        await Task.Delay(5);
    }
}

static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

static void Row(string what, List<double> values) =>
    Console.WriteLine($"| {what} | {Median(values):0} | {values.Order().ElementAt((int)Math.Ceiling(values.Count * 0.99) - 1):0} |");

static int FreePort()
{
    using var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}

/// <summary>A loopback backend: 200 "ok" on every path, health probes counted; stopped and started again on its port.</summary>
internal sealed class Backend
{
    private WebApplication? _app;
    private int _port;
    private long _probes;

    private Backend(string name) => Name = name;

    public string Name { get; }

    public string Address => $"http://127.0.0.1:{_port}";

    public long Probes => Interlocked.Read(ref _probes);

    public static async Task<Backend> StartAsync(string name)
    {
        var backend = new Backend(name);
        await backend.StartAgainAsync();
        return backend;
    }

    public async Task StartAgainAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, _port));
        var app = builder.Build();
        app.Run(context =>
        {
            if (context.Request.Path.StartsWithSegments("/health"))
            {
                Interlocked.Increment(ref _probes);
            }

            return context.Response.WriteAsync("ok");
        });
        await app.StartAsync();
        _port = new Uri(app.Urls.First()).Port;
        _app = app;
    }

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
}
