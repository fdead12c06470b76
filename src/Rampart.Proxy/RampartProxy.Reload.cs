using Microsoft.Extensions.Configuration;
using Rampart.Configuration;
using Rampart.Proxy.Configuration;
using Rampart.Proxy.Diagnostics;
using Rampart.Proxy.Forwarding;

namespace Rampart.Proxy;

// Hot reload: from options or from the configuration (on its change, or on demand); a rejected reload changes nothing.
public sealed partial class RampartProxy
{
    /// <summary>Reads the configuration again (its files included) and applies it, as when it changes by itself.</summary>
    /// <returns>How the reload ended.</returns>
    /// <exception cref="InvalidOperationException">The proxy was built without a configuration.</exception>
    public RampartReloadResult ReloadConfiguration()
    {
        var configuration = _configuration ?? throw new InvalidOperationException(
            "This proxy was built from options, not from a configuration: there is nothing to reload from.");

        lock (_reloadLock)
        {
            // Re-read every source, inner configurations included; their change callbacks wait (re-entrant lock, same thread), then one apply.
            _explicitReload = true;
            Volatile.Write(ref _fileError, null); // whatever fails from here on is fresh
            try
            {
                foreach (var root in Roots(configuration))
                {
                    root.Reload();
                }
            }
            finally
            {
                _explicitReload = false;
            }

            return ApplyConfiguration(explicitReload: true)!;
        }
    }

    /// <summary>
    /// Applies new options atomically: new routes and clusters serve new requests, while requests in flight
    /// finish on what they started with. Destinations that stay (same cluster, id and address) keep their
    /// health, ejection, breaker and drain state; removed ones stop being probed; added ones start Unknown
    /// and are probed at once. Invalid options are rejected and the running ones stay.
    /// </summary>
    /// <param name="options">The new options.</param>
    /// <returns>How the reload ended, with what changed or every problem.</returns>
    public RampartReloadResult Reload(RampartOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (_reloadLock)
        {
            return RampartConfiguration.Snapshot(options, out var errors) is { } snapshot ? Apply(snapshot, recordUnchanged: true) : Rejected(errors);
        }
    }

    private RampartReloadResult? ApplyConfiguration(bool explicitReload)
    {
        lock (_reloadLock)
        {
            if (_explicitReload)
            {
                return null; // ReloadConfiguration applies once when every source has been read
            }

            try
            {
                if (Volatile.Read(ref _fileError) is { } fileError)
                {
                    // A file that failed on a reload leaves its provider empty until it loads again.
                    if (explicitReload || !fileError.Provider.GetChildKeys([], null).Any())
                    {
                        return Rejected([$"{fileError.Provider.Source.Path}: {FileErrors.Describe(fileError.Exception)}"]);
                    }

                    Interlocked.CompareExchange(ref _fileError, null, fileError);
                }

                var options = RampartConfiguration.Load(_configuration!, out var errors);
                return errors.Count > 0 ? Rejected(errors) : Apply(options, recordUnchanged: explicitReload);
            }
#pragma warning disable CA1031 // a reload runs on the configuration's change callback: whatever happens, the running configuration stays
            catch (Exception ex)
#pragma warning restore CA1031
            {
                return Rejected([$"{RampartOptions.SectionName}: the reload failed: {ex.Message}"]);
            }
        }
    }

    // recordUnchanged: false for a change callback, so that a file watcher's second event does not hide what the first applied.
    private RampartReloadResult Apply(RampartOptions options, bool recordUnchanged)
    {
        if (_disposed)
        {
            return Record(RampartReloadOutcome.Rejected, [], ["the proxy has stopped"]);
        }

        var dnsChanged = !OptionsTree.Same(_declared.Dns, options.Dns);
        _declared = options;
        Discovery.Want(options);
        var changes = new List<string>();
        var next = Build(Discovery.Expand(options), _current, changes);
        if (dnsChanged)
        {
            changes.Add("Dns settings changed (discovered names are resolved again at once)");
        }

        if (changes.Count == 0)
        {
            ConfigurationLog.Unchanged(_configurationLogger);
            var unchanged = new RampartReloadResult(_time.GetUtcNow(), RampartReloadOutcome.Unchanged, [], []);
            return recordUnchanged ? Record(unchanged) : unchanged;
        }

        Commit(next);
        ConfigurationLog.Applied(_configurationLogger, changes);
        return Record(RampartReloadOutcome.Applied, changes, []);
    }

    /// <summary>A discovered name's endpoints changed: the clusters are rebuilt from the configuration with the same carry-over as a reload.</summary>
    private void ApplyDiscovered()
    {
        lock (_reloadLock)
        {
            if (_disposed)
            {
                return;
            }

            var changes = new List<string>();
            var next = Build(Discovery.Expand(_declared), _current, changes);
            if (changes.Count > 0)
            {
                Commit(next);
                DiscoveryLog.Applied(_discoveryLogger, changes);
            }
        }
    }

    /// <summary>Swaps <paramref name="next"/> in: its new destinations are probed first, the previous snapshot's leftovers are let go after.</summary>
    private void Commit(Snapshot next)
    {
        var previous = _current;

        // New destination objects start being probed before they can be picked; old ones stop after.
        var before = previous.Clusters.SelectMany(c => c.Destinations).ToHashSet();
        var after = next.Clusters.SelectMany(c => c.Destinations).ToHashSet();
        foreach (var destination in after.Where(d => !before.Contains(d)))
        {
            _prober.Track(destination); // its diagnostics are its cluster's
        }

        Volatile.Write(ref _current, next);
        Catalog.Replace([.. previous.Clusters.Except(next.Clusters)], [.. next.Clusters.Except(previous.Clusters)]);
        LoadedAt = _time.GetUtcNow();
        var changed = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
        changed.Cancel();
        changed.Dispose();

        foreach (var destination in before.Where(d => !after.Contains(d)))
        {
            _ = _prober.UntrackAsync(destination);
        }

        // A replaced forwarder's client may still carry requests that started before the swap: dispose it once they are over.
        var kept = next.Forwarders.Values.Select(f => f.Client).ToHashSet();
        foreach (var old in previous.Forwarders.Values.Where(f => !kept.Contains(f.Client)))
        {
            _ = DisposeLaterAsync(old, old.Cluster.Options.Timeout + TimeSpan.FromSeconds(5));
        }

        // A kept fast client lets go of the connections to destinations that left.
        foreach (var forwarder in next.Forwarders.Values)
        {
            forwarder.FastClient?.Retain(forwarder.Cluster.Destinations);
        }
    }

    private RampartReloadResult Rejected(IReadOnlyList<string> errors)
    {
        ConfigurationLog.Rejected(_configurationLogger, errors);
        return Record(RampartReloadOutcome.Rejected, [], errors);
    }

    private RampartReloadResult Record(RampartReloadOutcome outcome, IReadOnlyList<string> changes, IReadOnlyList<string> errors) =>
        Record(new RampartReloadResult(_time.GetUtcNow(), outcome, changes, errors));

    private RampartReloadResult Record(RampartReloadResult result)
    {
        Volatile.Write(ref _lastReload, result);
        Reloaded?.Invoke(result);
        return result;
    }

    /// <summary>A configuration file that fails to load on a reload is reported by the next reload instead of ending the process.</summary>
    private void WatchFileErrors(IConfiguration configuration)
    {
        foreach (var provider in Roots(configuration).SelectMany(r => r.Providers).OfType<FileConfigurationProvider>())
        {
            provider.Source.OnLoadException ??= context =>
            {
                Volatile.Write(ref _fileError, new FileError(context.Provider, context.Exception));
                context.Ignore = true;
            };
        }
    }

    /// <summary>The configuration's roots, the configurations chained into it included (a host's configuration often wraps the application's).</summary>
    private static IEnumerable<IConfigurationRoot> Roots(IConfiguration configuration)
    {
        if (configuration is not IConfigurationRoot root)
        {
            yield break;
        }

        yield return root;
        foreach (var chained in root.Providers.OfType<ChainedConfigurationProvider>())
        {
            foreach (var inner in Roots(chained.Configuration))
            {
                yield return inner;
            }
        }
    }

    private async Task DisposeLaterAsync(ClusterForwarder forwarder, TimeSpan after)
    {
        await Task.Delay(after, _time).ConfigureAwait(false);
        forwarder.Dispose();
    }

    private sealed record FileError(FileConfigurationProvider Provider, Exception Exception);
}
