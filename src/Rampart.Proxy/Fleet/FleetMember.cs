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
internal sealed class FleetMember : IHostedService, IDisposable
{
    private readonly RampartProxy _proxy;
    private readonly FleetOptions _options;
    private readonly ActiveHealthProber _prober;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly FleetKeys _keys;
    private readonly ConcurrentDictionary<DestinationKey, bool> _published = new(); // what this replica last said it holds out
    private readonly ConcurrentDictionary<DestinationKey, HashSet<string>> _verified = new();
    private readonly ConcurrentDictionary<DestinationKey, bool> _probing = new();
    private readonly ConcurrentDictionary<DestinationKey, ConcurrentDictionary<string, bool>> _latestProbes = new(); // each prober's latest result, as heard
    private readonly ConcurrentDictionary<DestinationKey, DateTimeOffset> _informed = new(); // when this replica last probed each destination or sent it traffic
    private readonly ConcurrentDictionary<DestinationKey, long> _requestsSeen = new(); // each destination's request count at the last heartbeat // whether this replica probed each destination for the fleet at the last live set // the holders each destination was suspected (and so verified) for
    private readonly CancellationTokenSource _stopping = new();
    private ConnectionMultiplexer? _redis;
    private Task _heartbeats = Task.CompletedTask;
    private readonly long _incarnation; // this process's start (Unix ms): orders its verdicts after a restart's
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

    /// <summary>How recently a replica must have probed a destination, sent it traffic or spoken of it to count among its voters.</summary>
    public static readonly TimeSpan VoterWindow = TimeSpan.FromSeconds(30);

    /// <summary>The configured quorum; 0: a majority of each destination's voters (<see cref="Voters"/>).</summary>
    public int ConfiguredQuorum => _options.Quorum;

    /// <summary>
    /// The live replicas informed about <paramref name="key"/>: those that probe it for the fleet, those that hold it out,
    /// those that spoke of it (back in, or kept after verifying) in the last <see cref="VoterWindow"/>, and this one when it
    /// probed it, sent it traffic or holds it out in that window. The default quorum is a majority of them.
    /// </summary>
    public IReadOnlyList<string> Voters(DestinationKey key, DestinationState destination)
    {
        var since = _time.GetUtcNow() - VoterWindow;
        var voters = new HashSet<string>(View.SpokeOf(key, since), StringComparer.Ordinal);
        var probed = destination.ActiveHealthOptions.Enabled; // probers are informed only where probes run
        if (probed)
        {
            voters.UnionWith(Probers(key).Where(p => p != View.Self));
        }

        var informedHere = destination.IsHeldOutHere || _informed.GetValueOrDefault(key) >= since || (probed && Probers(key).Contains(View.Self));
        if (informedHere)
        {
            voters.Add(View.Self);
        }

        return [.. voters.Order(StringComparer.Ordinal)];
    }

    /// <summary>How many replicas must hold <paramref name="key"/> out to exclude it fleet-wide now.</summary>
    public int QuorumFor(DestinationKey key, DestinationState destination) =>
        _options.Quorum > 0 ? _options.Quorum : (Voters(key, destination).Count / 2) + 1;

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

    // One heartbeat: say this replica is alive, learn who else is, resync after an outage, and act on what changed.
    private async Task BeatAsync()
    {
        var db = _redis!.GetDatabase();
        var started = _time.GetTimestamp();
        var ttl = _options.Heartbeat * 3;
        await db.StringSetAsync(_keys.Heartbeat(View.Self), _time.GetUtcNow().ToUnixTimeMilliseconds(), ttl).ConfigureAwait(false);
        await db.SetAddAsync(_keys.Replicas, View.Self).ConfigureAwait(false);
        await db.KeyExpireAsync(_keys.Mine, ttl).ConfigureAwait(false); // this replica's standing verdicts live as long as it does
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
        _published.Clear();
        foreach (var (cluster, destination) in Destinations())
        {
            if (destination.IsHeldOutHere)
            {
                Say(new DestinationKey(cluster.Id, destination.Id), held: true, "held out here", destination.Generation);
            }
        }

        if (was is not null)
        {
            FleetLog.Reconnected(_logger, _options.Name);
        }
        else
        {
            FleetLog.Joined(_logger, _options.Name, View.Self);
        }
    }

    // A destination that took requests since the last heartbeat: this replica sent it traffic, so it votes on it.
    private void SampleTraffic()
    {
        var now = _time.GetUtcNow();
        foreach (var (cluster, destination) in Destinations())
        {
            var key = new DestinationKey(cluster.Id, destination.Id);
            var requests = destination.Requests;
            if (_requestsSeen.TryGetValue(key, out var seen) && requests > seen)
            {
                _informed[key] = now;
            }

            _requestsSeen[key] = requests;
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

    private void OnMessage(RedisValue message)
    {
        if (FleetVerdict.Parse(message) is not { } verdict || verdict.Replica == View.Self || !Connected)
        {
            return;
        }

        Interlocked.Increment(ref _received);
        var key = verdict.Key;
        if (!View.Take(verdict))
        {
            return; // older than what this replica knows of that one
        }

        if (Find(key) is { } destination)
        {
            Reevaluate(key, destination);
        }

        Progressed?.Invoke();
    }

    // A local transition: tell the fleet when what this replica holds out changed, and recount the quorum.
    private void OnLocalTransition(DestinationState destination, DestinationTransition transition)
    {
        if (!Connected || Find(new DestinationKey(destination.ClusterId, destination.Id)) != destination)
        {
            return; // degraded, or a destination a reload replaced
        }

        var key = new DestinationKey(destination.ClusterId, destination.Id);
        var held = destination.IsHeldOutHere;
        var kept = transition.Signal == HealthSignal.Fleet && !held && transition.Reason.StartsWith("verified here", StringComparison.Ordinal);
        if (_published.GetValueOrDefault(key) != held || kept)
        {
            Say(key, held, transition.Reason, transition.Generation); // kept after verifying: not news for the hash, but a vote
        }

        if (transition.Signal != HealthSignal.Fleet)
        {
            Reevaluate(key, destination);
        }
    }

    // Publishes this replica's verdict (fire-and-forget: never awaited, whatever Redis does).
    private void Say(DestinationKey key, bool held, string reason, long generation)
    {
        _published[key] = held;
        var verdict = new FleetVerdict(View.Self, key.Cluster, key.Destination, held, reason, _incarnation, Interlocked.Increment(ref _sequence), generation).ToJson();
        try
        {
            var db = _redis!.GetDatabase();
            if (held)
            {
                db.HashSet(_keys.Mine, FleetKeys.Field(key), verdict, flags: CommandFlags.FireAndForget);
                db.KeyExpire(_keys.Mine, _options.Heartbeat * 3, CommandFlags.FireAndForget);
            }
            else
            {
                db.HashDelete(_keys.Mine, FleetKeys.Field(key), CommandFlags.FireAndForget);
            }

            _redis.GetSubscriber().Publish(RedisChannel.Literal(_keys.Verdicts), verdict, CommandFlags.FireAndForget);
            Interlocked.Increment(ref _sent);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            Degrade(ex.Message); // the next heartbeat resyncs
        }

    }

    // What the fleet's verdicts mean for one destination here: suspicion when a live replica holds it out that it was
    // not yet verified against (a probe at once), a quorum's exclusion, or trust again when no other replica holds it out.
    private void Reevaluate(DestinationKey key, DestinationState destination)
    {
        var by = View.HeldOutBy(key);
        var heldHere = destination.IsHeldOutHere;
        var count = by.Count + (heldHere ? 1 : 0);
        var quorum = QuorumFor(key, destination);
        destination.SetQuorum(by.Count > 0 && count >= quorum
            ? $"held out by {string.Join(", ", by.Select(b => b.Replica).Concat(heldHere ? [View.Self] : []))}: {count} of {View.Live.Count} live replicas, quorum {quorum}"
            : null);

        var verified = _verified.GetOrAdd(key, _ => new HashSet<string>(StringComparer.Ordinal));
        (string Replica, string Reason) news = default;
        lock (verified)
        {
            verified.IntersectWith(by.Select(b => b.Replica)); // a holder that let go (or left) is news again when it comes back
            foreach (var holder in by.Where(b => verified.Add(b.Replica)))
            {
                news = holder;
            }
        }

        if (news.Replica is not null && destination.Suspect($"held out by {news.Replica}: {news.Reason}"))
        {
            _prober.ProbeNow(destination);
        }
        else if (by.Count == 0 && destination.FleetState is FleetState.Suspect or FleetState.Confirmed
            && destination.TrustAgain("no other replica holds it out any more"))
        {
            _prober.ProbeNow(destination);
        }
    }

    private void ReevaluateAll()
    {
        foreach (var (cluster, destination) in Destinations())
        {
            Reevaluate(new DestinationKey(cluster.Id, destination.Id), destination);
        }
    }

    /// <summary>
    /// Sends an operator's action to every other live replica (each journals it as "by admin on" this replica);
    /// false when Redis cannot carry it now.
    /// </summary>
    public bool Broadcast(string cluster, string destination, string action)
    {
        if (!Connected)
        {
            return false;
        }

        try
        {
            var command = new FleetAdmin(View.Self, cluster, destination, action).ToJson();
            _redis!.GetSubscriber().Publish(RedisChannel.Literal(_keys.Admin), command);
            Interlocked.Increment(ref _sent);
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            Degrade(ex.Message);
            return false;
        }
    }

    private void OnAdminMessage(RedisValue message)
    {
        if (FleetAdmin.Parse(message) is not { } command || command.Replica == View.Self || !Connected || !Admin.AdminActions.IsKnown(command.Action))
        {
            return;
        }

        Interlocked.Increment(ref _received);
        if (Find(new DestinationKey(command.Cluster, command.Destination)) is { } destination)
        {
            Admin.AdminActions.Apply(destination, command.Action, "admin on " + command.Replica);
        }

        Progressed?.Invoke();
    }

    /// <summary>The live replicas that probe <paramref name="key"/> for the fleet: all of them when <see cref="FleetOptions.ProbeReplicas"/> is 0.</summary>
    public IReadOnlyList<string> Probers(DestinationKey key) =>
        _options.ProbeReplicas > 0 ? Rendezvous.Pick(View.Live, key, _options.ProbeReplicas) : [.. View.Live];

    // Asked by the prober before each scheduled probe: a destination of the proxy that other live replicas probe. Degraded: every one is probed here.
    private bool LeftToOthers(DestinationState destination)
    {
        var key = new DestinationKey(destination.ClusterId, destination.Id);
        return Connected && Find(key) == destination && !Probers(key).Contains(View.Self);
    }

    // A probe this replica ran for the fleet: the others take its result (fire-and-forget).
    private void OnLocalProbe(DestinationState destination, ProbeResult result)
    {
        var key = new DestinationKey(destination.ClusterId, destination.Id);
        _informed[key] = _time.GetUtcNow(); // this replica probed it: it votes on it
        if (!Connected || Find(key) != destination || !Probers(key).Contains(View.Self))
        {
            return; // degraded, not the proxy's, or a verification probe of this replica's own
        }

        try
        {
            var probe = new FleetProbe(View.Self, key.Cluster, key.Destination, result.Passed, result.Detail, result.Duration.TotalMilliseconds, destination.Generation);
            _redis!.GetSubscriber().Publish(RedisChannel.Literal(_keys.Probes), probe.ToJson(), CommandFlags.FireAndForget);
            Interlocked.Increment(ref _sent);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            Degrade(ex.Message);
        }
    }

    // A probe another replica ran for the fleet: taken as this replica's own when that replica probes the destination and this one does not.
    private void OnProbeMessage(RedisValue message)
    {
        if (FleetProbe.Parse(message) is not { } probe || probe.Replica == View.Self || !Connected)
        {
            return;
        }

        Interlocked.Increment(ref _received);
        var probers = Probers(probe.Key);
        var latest = _latestProbes.GetOrAdd(probe.Key, _ => new ConcurrentDictionary<string, bool>(StringComparer.Ordinal));
        latest[probe.Replica] = probe.Passed;
        // A pass from any prober counts; a failure only when every prober's latest result failed: one prober with a
        // broken path to the destination does not take it from the replicas that follow its results.
        var counts = probe.Passed || probers.All(p => p == View.Self || latest.GetValueOrDefault(p, true) is false);
        if (counts && Find(probe.Key) is { } destination && probers.Contains(probe.Replica) && !probers.Contains(View.Self))
        {
            destination.ReportProbe(destination.Generation, new ProbeResult(probe.Passed, $"{probe.Detail} (probed by {probe.Replica})", TimeSpan.FromMilliseconds(probe.Milliseconds)));
        }

        Progressed?.Invoke();
    }

    // The live set changed: destinations this replica probes now that it did not are probed at once (a prober left).
    private void TakeOverProbes()
    {
        if (_options.ProbeReplicas == 0)
        {
            return;
        }

        foreach (var (cluster, destination) in Destinations())
        {
            var key = new DestinationKey(cluster.Id, destination.Id);
            var mine = Probers(key).Contains(View.Self);
            if (_probing.TryGetValue(key, out var was) && was == mine)
            {
                continue;
            }

            _probing[key] = mine;
            if (mine)
            {
                _prober.ProbeNow(destination);
            }
        }
    }

    private IEnumerable<(ClusterState Cluster, DestinationState Destination)> Destinations() =>
        _proxy.Clusters.SelectMany(c => c.Destinations.Select(d => (c, d)));

    private DestinationState? Find(DestinationKey key) =>
        _proxy.Clusters.FirstOrDefault(c => c.Id.Equals(key.Cluster, StringComparison.OrdinalIgnoreCase))
            ?.Destinations.FirstOrDefault(d => d.Id.Equals(key.Destination, StringComparison.OrdinalIgnoreCase));
}
