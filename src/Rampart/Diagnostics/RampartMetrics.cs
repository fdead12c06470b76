using System.Diagnostics;
using System.Diagnostics.Metrics;
using Rampart.CircuitBreaking;
using Rampart.Clusters;
using Rampart.Destinations;
using Rampart.Health;

namespace Rampart.Diagnostics;

/// <summary>Every instrument Rampart publishes, on the meter <c>Rampart</c>. Tags are bounded: cluster and destination ids, states, outcomes; never a URL.</summary>
/// <remarks>
/// Names (OpenTelemetry style; the Prometheus exporter adds units and <c>_total</c>):
/// <c>rampart.requests</c>, <c>rampart.attempt.duration</c>, <c>rampart.retries</c>, <c>rampart.no_destination</c>,
/// <c>rampart.transitions</c>, <c>rampart.passive.ejections</c>, <c>rampart.probe.duration</c>,
/// <c>rampart.destination.available</c>, <c>rampart.circuit.state</c>, <c>rampart.health.active.state</c>,
/// <c>rampart.destination.in_flight</c>.
/// </remarks>
public sealed class RampartMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Rampart";

    private readonly Histogram<double> _attemptDuration;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _noDestination;
    private readonly Counter<long> _transitions;
    private readonly Counter<long> _ejections;
    private readonly Histogram<double> _probeDuration;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>; gauges read the clusters of <paramref name="catalog"/> when collected.</summary>
    /// <remarks>One per process (a DI singleton): the proxy and the HttpClient handlers share it.</remarks>
    public RampartMetrics(IMeterFactory meterFactory, ClusterCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(catalog);
        var clusters = () => catalog.Clusters;
        var meter = meterFactory.Create(MeterName);
        // Read off each destination's own counts when collected: no record on the request path.
        meter.CreateObservableCounter("rampart.requests", () => Outcomes(clusters()), "{attempt}", "Attempts sent to destinations, by outcome (success, failure, ignored).");
        _attemptDuration = meter.CreateHistogram<double>("rampart.attempt.duration", "s", "How long each attempt took, until its response headers or its failure.");
        _retries = meter.CreateCounter<long>("rampart.retries", "{retry}", "Failed attempts tried again on another destination.");
        _noDestination = meter.CreateCounter<long>("rampart.no_destination", "{request}", "Requests answered 503 because no destination was available.");
        _transitions = meter.CreateCounter<long>("rampart.transitions", "{transition}", "State changes of destinations, by signal and the state entered.");
        _ejections = meter.CreateCounter<long>("rampart.passive.ejections", "{ejection}", "Passive ejections.");
        _probeDuration = meter.CreateHistogram<double>("rampart.probe.duration", "s", "Active probes, by result (pass, fail).");
        meter.CreateObservableGauge("rampart.destination.available", () => Each(clusters(), d => d.IsAvailable ? 1 : 0), "{destination}", "1 when the destination may take requests, else 0.");
        meter.CreateObservableGauge("rampart.circuit.state", () => Each(clusters(), d => (int)d.Breaker.State), "{state}", "0 Closed, 1 Open, 2 HalfOpen, 3 Isolated.");
        meter.CreateObservableGauge("rampart.health.active.state", () => Each(clusters(), d => (int)d.ActiveHealth), "{state}", "0 Unknown, 1 Healthy, 2 Unhealthy.");
        meter.CreateObservableGauge("rampart.destination.fleet.state", () => Each(clusters(), d => (int)d.FleetState), "{state}", "What the fleet says here: 0 Trusted, 1 Suspect, 2 Confirmed, 3 Excluded.");
        meter.CreateObservableUpDownCounter("rampart.destination.in_flight", () => Each(clusters(), d => d.InFlight), "{request}", "Requests in flight to the destination.");
    }

    /// <summary>Records one attempt's duration (the attempt itself is counted by its destination: <c>rampart.requests</c>).</summary>
    public void RecordAttempt(DestinationState destination, CallResult result, TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var tags = new TagList
        {
            { "cluster.id", destination.ClusterId },
            { "destination.id", destination.Id },
            { "outcome", Outcome(result) },
        };
        _attemptDuration.Record(duration.TotalSeconds, tags);
    }

    /// <summary>Counts a retry on another destination.</summary>
    public void RecordRetry(string clusterId, string reason) =>
        _retries.Add(1, new KeyValuePair<string, object?>("cluster.id", clusterId), new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Counts a request answered 503 for want of a destination.</summary>
    public void RecordNoDestination(string clusterId) => _noDestination.Add(1, new KeyValuePair<string, object?>("cluster.id", clusterId));

    /// <summary>Counts a destination's transition.</summary>
    public void RecordTransition(DestinationState destination, DestinationTransition transition)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(transition);
        var tags = new TagList
        {
            { "cluster.id", destination.ClusterId },
            { "destination.id", destination.Id },
            { "signal", transition.Signal.ToString() },
            { "state", transition.To.ToString() },
        };
        _transitions.Add(1, tags);
        if (transition.To.Is(PassiveHealthState.Ejected))
        {
            _ejections.Add(1, new KeyValuePair<string, object?>("cluster.id", destination.ClusterId), new KeyValuePair<string, object?>("destination.id", destination.Id));
        }
    }

    /// <summary>Records one probe.</summary>
    public void RecordProbe(DestinationState destination, ProbeResult result)
    {
        ArgumentNullException.ThrowIfNull(destination);
        _probeDuration.Record(result.Duration.TotalSeconds, new TagList
        {
            { "cluster.id", destination.ClusterId },
            { "destination.id", destination.Id },
            { "result", result.Passed ? "pass" : "fail" },
        });
    }

    private static string Outcome(CallResult result) => result switch
    {
        CallResult.Success => "success",
        CallResult.Failure => "failure",
        _ => "ignored",
    };

    private static IEnumerable<Measurement<long>> Outcomes(IReadOnlyList<ClusterState> clusters)
    {
        foreach (var cluster in clusters)
        {
            foreach (var d in cluster.Destinations)
            {
                yield return Count(d, d.Successes, CallResult.Success);
                yield return Count(d, d.Failures, CallResult.Failure);
                yield return Count(d, d.Ignored, CallResult.Ignored);
            }
        }

        static Measurement<long> Count(DestinationState d, long value, CallResult outcome) => new(
            value,
            new KeyValuePair<string, object?>("cluster.id", d.ClusterId),
            new KeyValuePair<string, object?>("destination.id", d.Id),
            new KeyValuePair<string, object?>("outcome", Outcome(outcome)));
    }

    private static IEnumerable<Measurement<int>> Each(IReadOnlyList<ClusterState> clusters, Func<DestinationState, int> read)
    {
        foreach (var cluster in clusters)
        {
            foreach (var d in cluster.Destinations)
            {
                yield return new Measurement<int>(read(d), new KeyValuePair<string, object?>("cluster.id", d.ClusterId), new KeyValuePair<string, object?>("destination.id", d.Id));
            }
        }
    }
}
