using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Rampart.Configuration;
using Rampart.Proxy.Configuration;
using Rampart.Proxy.Diagnostics;

namespace Rampart.Proxy.Discovery;

/// <summary>
/// The proxy's discovered names: what each resolved to last, and the loop that resolves each again when due (its
/// TTL, a failure's backoff, a reload that adds it). When a pass changes some name's endpoints it tells the proxy,
/// which rebuilds its clusters through the same carry-over as a reload. Never on the request path.
/// </summary>
internal sealed class DnsDiscovery : IDisposable
{
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _firstPass = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ImmutableDictionary<DiscoveredName, NameState> _names = ImmutableDictionary<DiscoveredName, NameState>.Empty; // swapped under _gate
    private DnsResolver? _resolver; // guarded by _gate
    private CancellationTokenSource _wake = new(); // guarded by _gate

    public DnsDiscovery(TimeProvider time, ILoggerFactory loggerFactory)
    {
        _time = time;
        _logger = loggerFactory.CreateLogger("Rampart.Discovery");
    }

    /// <summary>Raised after a pass changed some name's endpoints (the proxy applies them), on the discovery loop.</summary>
    public event Action? Changed;

    /// <summary>Raised after every pass, changed or not (for tests and status), on the discovery loop.</summary>
    public event Action? Resolved;

    /// <summary>Every discovered name and its state now.</summary>
    public IReadOnlyDictionary<DiscoveredName, NameState> Names => Volatile.Read(ref _names);

    /// <summary>Completes after the first pass (or at once when nothing is discovered): a host starts serving with its names resolved.</summary>
    public Task FirstPass => _firstPass.Task;

    /// <summary>The configuration with its discovered destinations expanded from the names' last endpoints.</summary>
    public RampartOptions Expand(RampartOptions declared) => DiscoveryExpansion.Expand(declared, Names);

    /// <summary>
    /// The names <paramref name="declared"/> discovers from: new ones are due at once, gone ones forgotten, the others keep
    /// their endpoints and schedule (all due at once when the DNS settings changed). Wakes the loop when something is due.
    /// </summary>
    public void Want(RampartOptions declared)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var settingsChanged = _resolver is not null && !OptionsTree.Same(_resolver.Options, declared.Dns);
            if (_resolver is null || settingsChanged)
            {
                _resolver = new DnsResolver(declared.Dns);
            }

            var names = ImmutableDictionary.CreateBuilder<DiscoveredName, NameState>();
            foreach (var name in DiscoveryExpansion.Names(declared))
            {
                var state = _names.GetValueOrDefault(name) ?? NameState.Due(now);
                names[name] = settingsChanged ? state with { NextAt = now } : state;
            }

            var wake = names.Keys.Except(_names.Keys).Any() || settingsChanged;
            Volatile.Write(ref _names, names.ToImmutable());
            if (wake)
            {
                _wake.Cancel();
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _wake.Dispose();
        }
    }

    /// <summary>Resolves every name that is due, then waits for the next one, until <paramref name="stopping"/>.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            CancellationTokenSource wake;
            lock (_gate)
            {
                if (_wake.IsCancellationRequested)
                {
                    _wake.Dispose();
                    _wake = new CancellationTokenSource();
                }

                wake = _wake;
            }

            var next = DateTimeOffset.MaxValue;
            try
            {
                await RefreshDueAsync(stopping).ConfigureAwait(false);
                next = Names.Values.Select(n => n.NextAt).DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
            }
#pragma warning disable CA1031 // whatever a pass throws (applying what it found included), discovery goes on: the running destinations stay
            catch (Exception ex) when (!stopping.IsCancellationRequested)
#pragma warning restore CA1031
            {
                DiscoveryLog.PassFailed(_logger, ex);
                next = _time.GetUtcNow() + DnsSchedule.Shortest;
            }

            _firstPass.TrySetResult();
            var delay = next == DateTimeOffset.MaxValue ? Timeout.InfiniteTimeSpan : (next - _time.GetUtcNow()) is var d && d > TimeSpan.Zero ? d : TimeSpan.Zero;
            using var either = CancellationTokenSource.CreateLinkedTokenSource(stopping, wake.Token);
            try
            {
                await Task.Delay(delay, _time, either.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // woken (a reload added a name) or stopping: the loop's condition tells which
            }
        }

        _firstPass.TrySetResult();
    }

    /// <summary>Resolves every name due now, at once; raises <see cref="Changed"/> when some name's endpoints changed.</summary>
    public async Task RefreshDueAsync(CancellationToken cancellationToken)
    {
        DnsResolver resolver;
        List<KeyValuePair<DiscoveredName, NameState>> due;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            due = [.. _names.Where(n => n.Value.NextAt <= now)];
            resolver = _resolver!;
        }

        if (due.Count == 0)
        {
            Resolved?.Invoke();
            return;
        }

        var results = await Task.WhenAll(due.Select(n => ResolveAsync(resolver, n.Key, n.Value, cancellationToken))).ConfigureAwait(false);
        var changed = false;
        lock (_gate)
        {
            var names = _names.ToBuilder();
            foreach (var (name, state) in results)
            {
                if (names.TryGetValue(name, out var was)) // a reload may have dropped it meanwhile
                {
                    changed |= !was.Endpoints.SequenceEqual(state.Endpoints);
                    names[name] = state;
                }
            }

            Volatile.Write(ref _names, names.ToImmutable());
        }

        if (changed)
        {
            Changed?.Invoke();
        }

        Resolved?.Invoke();
    }

    private async Task<(DiscoveredName, NameState)> ResolveAsync(DnsResolver resolver, DiscoveredName name, NameState was, CancellationToken cancellationToken)
    {
        var refresh = resolver.Options.RefreshInterval;
        try
        {
            var answer = await resolver.ResolveAsync(name.Host, name.Mode, cancellationToken).ConfigureAwait(false);
            if (was.Failures > 0)
            {
                DiscoveryLog.Recovered(_logger, name.Host, name.Mode, answer.Endpoints.Count);
            }

            return (name, DnsSchedule.Succeeded(was, answer, _time.GetUtcNow(), refresh));
        }
#pragma warning disable CA1031 // whatever a resolution throws (a socket error, a malformed answer), the last good endpoints stay
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            var state = DnsSchedule.Failed(was, ex.Message, _time.GetUtcNow(), refresh);
            if (state.Failures == 1)
            {
                DiscoveryLog.Failing(_logger, name.Host, name.Mode, ex.Message, was.Endpoints.Count); // once per outage, whatever its length
            }

            return (name, state);
        }
    }
}
