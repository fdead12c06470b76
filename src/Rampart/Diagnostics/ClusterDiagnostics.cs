using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rampart.Clusters;
using Rampart.Destinations;
using Rampart.Health;

namespace Rampart.Diagnostics;

/// <summary>
/// What every cluster reports, wherever it was created (a proxy, an HttpClient handler, a library user's own code):
/// each destination transition as one log line (events 1001/1002) and in <c>rampart.transitions</c>, and each probe in
/// <c>rampart.probe.duration</c>; and what the attempt loop does with its requests (events 3001–3005, category
/// <c>Rampart.Failover</c>; <c>rampart.requests</c>, <c>rampart.attempt.duration</c>, <c>rampart.retries</c>, <c>rampart.no_destination</c>).
/// </summary>
public sealed class ClusterDiagnostics
{
    /// <summary>Reports nothing.</summary>
    public static ClusterDiagnostics None { get; } = new(null, null);

    private readonly ILogger _logger;
    private readonly RampartMetrics? _metrics;

    /// <summary>Reports to <paramref name="loggerFactory"/> (category <c>Rampart.Destinations</c>) and <paramref name="metrics"/>, either of which may be absent.</summary>
    public ClusterDiagnostics(ILoggerFactory? loggerFactory, RampartMetrics? metrics)
    {
        _logger = loggerFactory?.CreateLogger("Rampart.Destinations") ?? NullLogger.Instance;
        FailoverLogger = loggerFactory?.CreateLogger("Rampart.Failover") ?? NullLogger.Instance;
        _metrics = metrics;
    }

    /// <summary>The attempt loop's logger.</summary>
    internal ILogger FailoverLogger { get; }

    /// <summary>The instruments, when metrics are on.</summary>
    internal RampartMetrics? Metrics => _metrics;

    /// <summary>Logs a destination's failure as one warning line, at most one per destination and kind every 10 s (event 3004).</summary>
    internal void DestinationFailed(ClusterState cluster, DestinationState destination, string detail)
    {
        if (cluster.FailureLog.TryEnter(destination.Id, detail, out var suppressed))
        {
            FailoverLog.DestinationFailed(FailoverLogger, cluster.Id, destination.Id, detail, suppressed);
        }
    }

    /// <summary>Raised after every transition of every watched destination, after it was logged (the fleet shares them). A handler must be quick and must not throw.</summary>
    public event Action<DestinationState, DestinationTransition>? Transitioned;

    /// <summary>Logs and counts every transition of <paramref name="destination"/> from now on.</summary>
    public void Watch(DestinationState destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (ReferenceEquals(this, None))
        {
            return;
        }

        destination.Changed += t =>
        {
            DestinationLog.Transition(_logger, destination, t);
            _metrics?.RecordTransition(destination, t);
            Transitioned?.Invoke(destination, t);
        };
    }

    /// <summary>Measures every probe of <paramref name="prober"/> (once per prober, however many clusters share it).</summary>
    public void Watch(ActiveHealthProber prober)
    {
        ArgumentNullException.ThrowIfNull(prober);
        if (_metrics is { } metrics && prober.ClaimProbeMetrics())
        {
            prober.ProbeCompleted += metrics.RecordProbe;
        }
    }
}
