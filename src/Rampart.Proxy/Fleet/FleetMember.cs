using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rampart.Clusters;
using Rampart.Destinations;
using Rampart.Diagnostics;
using Rampart.Health;
using Rampart.Proxy.Diagnostics;
using StackExchange.Redis;

namespace Rampart.Proxy.Fleet;

/// <summary>
/// This replica in its fleet: it says it is alive, learns the live set, publishes what its own signals hold out, and
/// turns what the others hold out into suspicion (verified here by a probe at once) or, with a quorum, exclusion.
/// Redis is never awaited on the request path (publishing is fire-and-forget from transitions), and never a single
/// point of failure: unreachable, the replica falls back to its own decisions at once, and resyncs when it returns.
/// </summary>
internal sealed partial class FleetMember : IHostedService, IDisposable
{
    private readonly RampartProxy _proxy;
    private readonly FleetOptions _options;
    private readonly ActiveHealthProber _prober;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly FleetKeys _keys;
    private readonly ConcurrentDictionary<DestinationKey, string> _published = new(); // what this replica last said it holds out, and why
    private readonly ConcurrentDictionary<DestinationKey, HashSet<string>> _verified = new(); // the holders each destination was suspected (and so verified) for
    private readonly ConcurrentDictionary<DestinationKey, bool> _probing = new(); // whether this replica probed each destination for the fleet at the last live set
    private readonly ConcurrentDictionary<DestinationKey, ConcurrentDictionary<string, bool>> _latestProbes = new(); // each prober's latest result, as heard
    private readonly ConcurrentDictionary<DestinationKey, DateTimeOffset> _informed = new(); // when this replica last probed each destination or sent it traffic
    private readonly ConcurrentDictionary<DestinationKey, long> _requestsSeen = new(); // each destination's request count at the last heartbeat
    private readonly CancellationTokenSource _stopping = new();
    private readonly long _incarnation; // this process's start (Unix ms): orders its verdicts after a restart's
    private ConnectionMultiplexer? _redis;
    private Task _heartbeats = Task.CompletedTask;
    private long _sequence; // verdicts published by this process
    private long _sent;
    private long _received;
    private long _degradedSinceMs; // Unix ms since Redis has been unreachable; 0 while connected (one word: read by status, written by heartbeats and publishers)
    private bool _connected;
    private Histogram<double>? _roundTrip;
    private double _degradedBefore; // seconds of outages that ended

    public FleetMember(RampartProxy proxy, FleetOptions options, ActiveHealthProber prober, ClusterDiagnostics diagnostics, TimeProvider time, ILoggerFactory loggerFactory, IMeterFactory? meters = null)
    {
        _proxy = proxy;
        _options = options;
        _prober = prober;
        _time = time;
        _logger = loggerFactory.CreateLogger("Rampart.Fleet");
        View = new FleetView(options.Replica, time);
        _incarnation = time.GetUtcNow().ToUnixTimeMilliseconds();
        _keys = new FleetKeys(options.Name, options.Replica);
        diagnostics.Transitioned += OnLocalTransition;
        if (options.ProbeReplicas > 0)
        {
            prober.LeftToOthers = LeftToOthers;
            prober.ProbeCompleted += OnLocalProbe;
        }

        if (meters?.Create(RampartMetrics.MeterName) is { } meter)
        {
            _roundTrip = meter.CreateHistogram<double>("rampart.fleet.redis.duration", "s", "Round trip of each heartbeat's Redis exchange.");
            meter.CreateObservableCounter("rampart.fleet.messages", () => new[]
            {
                new Measurement<long>(MessagesSent, new KeyValuePair<string, object?>("direction", "sent")),
                new Measurement<long>(MessagesReceived, new KeyValuePair<string, object?>("direction", "received")),
            }, "{message}", "Verdicts published and received.");
            meter.CreateObservableGauge("rampart.fleet.connected", () => Connected ? 1 : 0, "{state}", "1 while Redis is reachable, 0 while this replica decides alone.");
            meter.CreateObservableGauge("rampart.fleet.live_replicas", () => View.Live.Count, "{replica}", "Replicas in the live set, this one included.");
            meter.CreateObservableCounter("rampart.fleet.degraded.time", () => DegradedSeconds(), "s", "Time spent with Redis unreachable.");
        }
    }

    private double DegradedSeconds() => Volatile.Read(ref _degradedBefore) + (DegradedSince is { } since ? (_time.GetUtcNow() - since).TotalSeconds : 0);

    /// <summary>Raised after every heartbeat (worked or not) and every verdict received, once acted on (for tests and the dashboard).</summary>
    public event Action? Progressed;

    /// <summary>The live set and the other replicas' verdicts, as last heard.</summary>
    public FleetView View { get; }

    public string Name => _options.Name;

    /// <summary>Whether the last exchange with Redis worked (false before the first, and while degraded).</summary>
    public bool Connected => Volatile.Read(ref _connected);

    /// <summary>Since when Redis has been unreachable; null while connected (or before the first attempt).</summary>
    public DateTimeOffset? DegradedSince => Volatile.Read(ref _degradedSinceMs) is var ms and not 0 ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;

    public long MessagesSent => Interlocked.Read(ref _sent);

    public long MessagesReceived => Interlocked.Read(ref _received);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var configuration = ConfigurationOptions.Parse(_options.Redis);
        configuration.AbortOnConnectFail = false; // Redis down at start: start anyway, local decisions, connect when it comes
        configuration.BacklogPolicy = BacklogPolicy.FailFast; // while disconnected a command fails at once instead of queueing
        configuration.ConnectTimeout = (int)Math.Max(_options.Heartbeat.TotalMilliseconds, 1000);
        configuration.AsyncTimeout = (int)Math.Max(_options.Heartbeat.TotalMilliseconds, 1000);
        configuration.ConnectRetry = 1;
        configuration.ClientName = "rampart-" + _options.Replica;
        _redis = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        _proxy.Fleet = this;
        await BeatOnceAsync().ConfigureAwait(false); // joined (or degraded) before the replica serves
        _heartbeats = Task.Run(() => HeartbeatsAsync(_stopping.Token), CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _heartbeats.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopped
        }

        if (_redis is { IsConnected: true } redis)
        {
            try
            {
                // Leave at once rather than after three heartbeats; a destination this replica held out is not held out by a replica that left.
                var db = redis.GetDatabase();
                await db.KeyDeleteAsync(_keys.Heartbeat(View.Self)).ConfigureAwait(false);
                await db.KeyDeleteAsync(_keys.Mine).ConfigureAwait(false);
                await db.SetRemoveAsync(_keys.Replicas, View.Self).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // it expires by itself
            }
        }
    }

    public void Dispose()
    {
        _redis?.Dispose();
        _stopping.Dispose();
    }

    private async Task HeartbeatsAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.Heartbeat, _time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await BeatOnceAsync().ConfigureAwait(false);
        }
    }

    private async Task BeatOnceAsync()
    {
        try
        {
            await BeatAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            Degrade(ex.Message);
        }

        Progressed?.Invoke();
    }

    // Says anew what this replica holds out now (after a resync, or when its hash expired).
    private void SayStanding()
    {
        var said = new Dictionary<DestinationKey, string>(_published);
        _published.Clear();
        foreach (var (cluster, destination) in Destinations())
        {
            if (destination.IsHeldOutHere)
            {
                var key = new DestinationKey(cluster.Id, destination.Id);
                Say(key, held: true, said.GetValueOrDefault(key) ?? "held out here", destination.Generation); // the reason it gave before, when it gave one
            }
        }
    }

    // One heartbeat: say this replica is alive, learn who else is, resync after an outage, and act on what changed.
    private async Task BeatAsync()
    {
        var db = _redis!.GetDatabase();
        var started = _time.GetTimestamp();
        var ttl = _options.Heartbeat * 3;
        await db.StringSetAsync(_keys.Heartbeat(View.Self), _time.GetUtcNow().ToUnixTimeMilliseconds(), ttl).ConfigureAwait(false);
        await db.SetAddAsync(_keys.Replicas, View.Self).ConfigureAwait(false);
        // This replica's standing verdicts live as long as it does. Gone while it lives (a heartbeat came later than their
        // time to live: a stalled process, a loaded machine), they are written again.
        var standing = await db.KeyExpireAsync(_keys.Mine, ttl).ConfigureAwait(false);
        var members = (await db.SetMembersAsync(_keys.Replicas).ConfigureAwait(false)).Select(m => m.ToString()).ToList();
        var alive = await Task.WhenAll(members.Select(m => db.KeyExistsAsync(_keys.Heartbeat(m)))).ConfigureAwait(false);
        var live = members.Where((_, i) => alive[i]).ToList();
        _roundTrip?.Record(_time.GetElapsedTime(started).TotalSeconds);
        foreach (var gone in members.Where((_, i) => !alive[i]))
        {
            _ = db.SetRemoveAsync(_keys.Replicas, gone, CommandFlags.FireAndForget);
        }

        SampleTraffic();
        var liveChanged = View.SetLive(live); // first: a resync's verdicts count only from live replicas
        var resync = !Connected;
        if (resync)
        {
            await ResyncAsync(db, live).ConfigureAwait(false);
        }
        else if (!standing && !_published.IsEmpty)
        {
            SayStanding();
        }

        if (liveChanged || resync)
        {
            ReevaluateAll();
            TakeOverProbes();
        }
    }

    // After a start or an outage: listen, read what every replica holds out now, and say what this one does.
    private async Task ResyncAsync(IDatabase db, IReadOnlyList<string> live)
    {
        // Subscribed anew on every resync (subscribing while Redis is away fails), with one handler; listening before
        // reading, so that no verdict falls between the two.
        var channel = RedisChannel.Literal(_keys.Verdicts);
        var subscriber = _redis!.GetSubscriber();
        await subscriber.UnsubscribeAsync(channel).ConfigureAwait(false);
        await subscriber.SubscribeAsync(channel, (_, message) => OnMessage(message)).ConfigureAwait(false);
        var admin = RedisChannel.Literal(_keys.Admin);
        await subscriber.UnsubscribeAsync(admin).ConfigureAwait(false);
        await subscriber.SubscribeAsync(admin, (_, message) => OnAdminMessage(message)).ConfigureAwait(false);
        var probes = RedisChannel.Literal(_keys.Probes);
        await subscriber.UnsubscribeAsync(probes).ConfigureAwait(false);
        await subscriber.SubscribeAsync(probes, (_, message) => OnProbeMessage(message)).ConfigureAwait(false);
        var was = DegradedSince;
        Volatile.Write(ref _degradedBefore, _degradedBefore + (was is { } since ? (_time.GetUtcNow() - since).TotalSeconds : 0));
        Volatile.Write(ref _degradedSinceMs, 0);
        Volatile.Write(ref _connected, true);

        // The live replicas' standing verdicts; this replica's own are written anew (what it held out before may be back).
        foreach (var replica in live.Where(r => r != View.Self))
        {
            foreach (var entry in await db.HashGetAllAsync(_keys.HeldOut(replica)).ConfigureAwait(false))
            {
                if (FleetVerdict.Parse(entry.Value) is { } verdict && verdict.Replica == replica)
                {
                    View.Take(verdict);
                }
            }
        }

        await db.KeyDeleteAsync(_keys.Mine).ConfigureAwait(false);
        SayStanding();

        if (was is not null)
        {
            FleetLog.Reconnected(_logger, _options.Name);
        }
        else
        {
            FleetLog.Joined(_logger, _options.Name, View.Self);
        }
    }

    // Redis is unreachable: the fleet's verdicts are dropped at once (local decisions only), one warning per outage.
    private void Degrade(string error)
    {
        var wasConnected = Volatile.Read(ref _connected);
        Volatile.Write(ref _connected, false);
        if (Interlocked.CompareExchange(ref _degradedSinceMs, Math.Max(1, _time.GetUtcNow().ToUnixTimeMilliseconds()), 0) != 0)
        {
            return; // already degraded (a heartbeat and a publisher may both find out): one warning per outage
        }

        View.Clear();
        _verified.Clear();
        _probing.Clear();
        _latestProbes.Clear();
        foreach (var (_, destination) in Destinations())
        {
            destination.TrustAgain("the fleet is unreachable: this replica's own signals decide");
        }

        FleetLog.Degraded(_logger, _options.Name, error, wasConnected);
    }

    /// <summary>The proxy's destinations now, with their clusters: what the fleet speaks of.</summary>
    internal IEnumerable<(ClusterState Cluster, DestinationState Destination)> Destinations() =>
        _proxy.Clusters.SelectMany(c => c.Destinations.Select(d => (c, d)));

    /// <summary>The proxy's destination a fleet message names, now; null when the proxy has none by that name.</summary>
    internal DestinationState? Find(DestinationKey key) =>
        _proxy.Clusters.FirstOrDefault(c => c.Id.Equals(key.Cluster, StringComparison.OrdinalIgnoreCase))
            ?.Destinations.FirstOrDefault(d => d.Id.Equals(key.Destination, StringComparison.OrdinalIgnoreCase));
}
