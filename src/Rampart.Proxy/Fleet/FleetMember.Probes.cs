using System.Collections.Concurrent;
using Rampart.Destinations;
using Rampart.Health;
using StackExchange.Redis;

namespace Rampart.Proxy.Fleet;

// Probe sharding: who probes which destination, and the probers' results taken by the others.
internal sealed partial class FleetMember
{
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
}
