using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rampart.Destinations;

namespace Rampart.Health;

/// <summary>Probes every tracked destination on its own schedule and reports the results to its state.</summary>
/// <remarks>
/// <para>
/// One loop per destination: probe, report, wait. Loops run concurrently, so a hung destination
/// delays nobody else and costs its own loop at most <see cref="ActiveHealthOptions.Timeout"/>. The wait is
/// <see cref="ActiveHealthOptions.Interval"/>, or <see cref="ActiveHealthOptions.UnhealthyInterval"/> while
/// the destination is unhealthy or changing, shortened by a random jitter so that probes spread out.
/// </para>
/// <para>
/// <see cref="Track"/> starts probing a destination at once; <see cref="UntrackAsync"/> stops it. Stopping
/// the host cancels every probe in flight and waits for every loop to end: no probe runs after
/// <see cref="StopAsync"/> returns.
/// </para>
/// </remarks>
public sealed partial class ActiveHealthProber : IHostedService, IDisposable
{
    private readonly HealthProbe _probe;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Random _random;
    private readonly Lock _lock = new();
    private readonly Dictionary<DestinationState, ProbeLoop> _loops = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly HttpMessageInvoker? _ownedClient;
    private bool _started;
    private bool _disposed;

    /// <summary>Creates a prober with its own HTTP client for probes (no proxy, no redirects, no cookies).</summary>
    /// <param name="timeProvider">The clock for intervals and timeouts.</param>
    /// <param name="logger">Where probe errors are logged.</param>
    public ActiveHealthProber(TimeProvider timeProvider, ILogger<ActiveHealthProber> logger)
        : this(CreateClient(), timeProvider, logger)
    {
        _ownedClient = _probe.Client;
    }

    /// <summary>Creates a prober that sends its HTTP probes through <paramref name="client"/>.</summary>
    /// <param name="client">The HTTP client for probes (not disposed by the prober).</param>
    /// <param name="timeProvider">The clock for intervals and timeouts.</param>
    /// <param name="logger">Where probe errors are logged.</param>
    /// <param name="random">The source of jitter; <see cref="Random.Shared"/> when <see langword="null"/>.</param>
    public ActiveHealthProber(HttpMessageInvoker client, TimeProvider timeProvider, ILogger<ActiveHealthProber> logger, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _probe = new HealthProbe(client, timeProvider);
        _time = timeProvider;
        _logger = logger;
        _random = random ?? Random.Shared;
    }

    private int _probeMetricsClaimed;

    /// <summary>True the first time only: the prober's probes are measured by one <see cref="Diagnostics.ClusterDiagnostics"/>, never twice.</summary>
    internal bool ClaimProbeMetrics() => Interlocked.Exchange(ref _probeMetricsClaimed, 1) == 0;

    /// <summary>
    /// Whether a destination's probe is left to others this round (a fleet shares probing: another replica probes it and
    /// this one takes its results). Asked before each scheduled probe; a probe asked for by <see cref="ProbeNow"/> always runs.
    /// </summary>
    internal Func<DestinationState, bool>? LeftToOthers { get; set; }

    /// <summary>Raised after every probe whose result was reported (for metrics).</summary>
    public event Action<DestinationState, ProbeResult>? ProbeCompleted;

    /// <summary>Probe loops running now.</summary>
    internal int RunningLoops
    {
        get
        {
            lock (_lock)
            {
                return _loops.Values.Count(l => !l.Task.IsCompleted);
            }
        }
    }

    /// <summary>Whether <paramref name="destination"/> is tracked: its probe loop runs (or will, once the prober starts).</summary>
    internal bool IsTracking(DestinationState destination)
    {
        lock (_lock)
        {
            return _loops.ContainsKey(destination);
        }
    }

    /// <summary>Starts probing <paramref name="destination"/> (at once when started) if its active checks are enabled and it is not tracked yet.</summary>
    public void Track(DestinationState destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (!destination.ActiveHealthOptions.Enabled)
        {
            return;
        }

        lock (_lock)
        {
            if (!_loops.ContainsKey(destination))
            {
                var loop = new ProbeLoop(destination, CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
                _loops.Add(destination, loop);
                if (_started)
                {
                    loop.Task = RunAsync(loop);
                }
            }
        }
    }

    /// <summary>Probes <paramref name="destination"/> now instead of at its next turn (another replica holds it out: verify); nothing when it is not probed.</summary>
    /// <returns>Whether a probe loop was woken (one already probing finishes its probe).</returns>
    public bool ProbeNow(DestinationState destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ProbeLoop? loop;
        lock (_lock)
        {
            if (!_loops.TryGetValue(destination, out loop))
            {
                return false;
            }
        }

        return loop.Wake();
    }

    /// <summary>Stops probing <paramref name="destination"/>; a probe in flight is cancelled and its result dropped.</summary>
    /// <returns>A task that completes when the destination's probe loop has ended.</returns>
    public Task UntrackAsync(DestinationState destination)
    {
        ProbeLoop? loop;
        lock (_lock)
        {
            if (!_loops.Remove(destination, out loop))
            {
                return Task.CompletedTask;
            }
        }

        loop.Cancel.Cancel();
        return loop.Task;
    }

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_started)
            {
                return Task.CompletedTask; // hosted by the proxy and by HttpClient handlers alike: start once
            }

            _started = true;
            foreach (var loop in _loops.Values)
            {
                loop.Task = RunAsync(loop);
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task[] running;
        lock (_lock)
        {
            _started = false;
            running = [.. _loops.Values.Select(l => l.Task)];
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(running).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _stopping.Cancel();
        _stopping.Dispose();
        _ownedClient?.Dispose();
    }

    private static HttpMessageInvoker CreateClient() => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
    });

    private async Task RunAsync(ProbeLoop loop)
    {
        var destination = loop.Destination;
        var options = destination.ActiveHealthOptions;
        var expected = StatusCodeSet.Parse(options.ExpectedStatus);
        var token = loop.Cancel.Token;
        try
        {
            // A first probe at once, spread over a moment so that a cluster's destinations do not fire together.
            await Task.Delay(Jittered(options.UnhealthyInterval * options.Jitter, 1), _time, token).ConfigureAwait(false);
            var woken = false;
            while (!token.IsCancellationRequested)
            {
                TimeSpan interval;
                if (!woken && LeftToOthers is { } leftToOthers && leftToOthers(destination))
                {
                    interval = options.IntervalFor(destination.ProbeSoon); // another replica probes it: ask again at the next turn
                }
                else
                {
                    try
                    {
                        var generation = destination.Generation;
                        var via = destination.Endpoint.Tls is { } tls ? Rampart.Tls.DestinationTls.ProbeClient(tls) : null; // the cluster's TLS settings
                        var result = await _probe.RunAsync(destination.Address, destination.Endpoint.HttpVersion, options, expected, token, via).ConfigureAwait(false);
                        token.ThrowIfCancellationRequested();
                        ProbeCompleted?.Invoke(destination, result);
                        var stale = !destination.ReportProbe(generation, result);
                        if (stale)
                        {
                            Log.StaleProbeIgnored(_logger, destination.ClusterId, destination.Id, generation);
                        }
                        else if (!result.Passed)
                        {
                            Log.ProbeFailed(_logger, destination.ClusterId, destination.Id, result.Detail, result.Duration.TotalMilliseconds);
                        }

                        // The destination changed while the probe ran: the result did not count, so ask again soon. A pass on the
                        // way back is followed at once by the next, so that recovery is not held back by the schedule.
                        interval = !stale && destination.ProbeAgainAtOnce ? TimeSpan.Zero : options.IntervalFor(stale || destination.ProbeSoon);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
                    {
                        // A loop that died would leave the destination's health frozen: say so, and go on probing.
                        Log.ProbeLoopCrashed(_logger, ex, destination.ClusterId, destination.Id);
                        interval = options.UnhealthyInterval;
                    }
                }

                woken = await loop.NapAsync(Jittered(interval, options.Jitter), _time, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopped or untracked.
        }
        finally
        {
            loop.Cancel.Dispose();
        }
    }

    private TimeSpan Jittered(TimeSpan interval, double jitter)
    {
        double fraction;
        lock (_random)
        {
            fraction = _random.NextDouble();
        }

        return interval - (interval * (jitter * fraction));
    }

    private sealed class ProbeLoop(DestinationState destination, CancellationTokenSource cancel)
    {
        private readonly Lock _lock = new();
        private CancellationTokenSource? _nap; // guarded by _lock
        private bool _woken; // guarded by _lock: a wake between two naps is not lost

        public DestinationState Destination { get; } = destination;

        public CancellationTokenSource Cancel { get; } = cancel;

        public Task Task { get; set; } = Task.CompletedTask;

        /// <summary>Waits <paramref name="interval"/>, or less when <see cref="Wake"/> is called; returns whether it was woken.</summary>
        public async Task<bool> NapAsync(TimeSpan interval, TimeProvider time, CancellationToken stopping)
        {
            var nap = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            lock (_lock)
            {
                if (_woken)
                {
                    _woken = false;
                    nap.Dispose();
                    return true;
                }

                _nap = nap;
            }

            try
            {
                await Task.Delay(interval, time, nap.Token).ConfigureAwait(false);
                return false;
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
                return true; // woken: probe now
            }
            finally
            {
                lock (_lock)
                {
                    _nap = null;
                    _woken = false;
                }

                nap.Dispose();
            }
        }

        public bool Wake()
        {
            lock (_lock)
            {
                _woken = true;
                _nap?.Cancel();
                return true;
            }
        }
    }
}
