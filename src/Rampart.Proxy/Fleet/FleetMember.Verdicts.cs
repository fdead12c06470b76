using Rampart.Destinations;
using StackExchange.Redis;

namespace Rampart.Proxy.Fleet;

// Verdicts: what this replica says of its destinations, what it makes of the others', and the quorum's voters.
internal sealed partial class FleetMember
{
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
        IReadOnlyList<string> probers = destination.ActiveHealthOptions.Enabled ? Probers(key) : []; // probers are informed only where probes run
        voters.UnionWith(probers.Where(p => p != View.Self));
        var informedHere = destination.IsHeldOutHere || _informed.GetValueOrDefault(key) >= since || probers.Contains(View.Self);
        if (informedHere)
        {
            voters.Add(View.Self);
        }

        return [.. voters.Order(StringComparer.Ordinal)];
    }

    /// <summary>How many replicas must hold <paramref name="key"/> out to exclude it fleet-wide now.</summary>
    public int QuorumFor(DestinationKey key, DestinationState destination) =>
        _options.Quorum > 0 ? _options.Quorum : (Voters(key, destination).Count / 2) + 1;

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
        var key = new DestinationKey(destination.ClusterId, destination.Id);
        if (!Connected || Find(key) != destination)
        {
            return; // degraded, or a destination a reload replaced
        }

        var held = destination.IsHeldOutHere;
        var kept = transition.Signal == HealthSignal.Fleet && !held && transition.Reason.StartsWith("verified here", StringComparison.Ordinal);
        var said = _published.TryGetValue(key, out var reason);
        // News: held out or back, or held out here for another reason of its own (an admin's isolation of a destination
        // already out); what the fleet says meanwhile is not this replica's reason.
        var newReason = held && transition.Signal != HealthSignal.Fleet && reason != transition.Reason;
        if (said != held || newReason || kept)
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
        if (held)
        {
            _published[key] = reason;
        }
        else
        {
            _published.TryRemove(key, out _);
        }

        var verdict = new FleetVerdict(View.Self, key.Cluster, key.Destination, held, reason, _incarnation, Interlocked.Increment(ref _sequence), generation).ToJson();
        try
        {
            var db = _redis!.GetDatabase();
            if (held)
            {
                // One transaction: the hash never stands without its time to live (a dead replica's verdicts go with it).
                var write = db.CreateTransaction();
                _ = write.HashSetAsync(_keys.Mine, FleetKeys.Field(key), verdict);
                _ = write.KeyExpireAsync(_keys.Mine, _options.Heartbeat * 3);
                write.Execute(CommandFlags.FireAndForget);
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
}
