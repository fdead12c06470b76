using System.Diagnostics.Metrics;
using Rampart.CircuitBreaking;
using Rampart.Clusters;
using Rampart.Destinations;
using Rampart.Diagnostics;

namespace Rampart.Tests.Diagnostics;

/// <summary><c>rampart.requests</c> is read off the destinations' own counts when collected: every reported attempt, by outcome, and nothing on the request path.</summary>
public sealed class RampartMetricsTests
{
    [Fact]
    public void Requests_AreCountedPerDestinationAndOutcome_WhenCollected()
    {
        var options = new ClusterOptions();
        options.Destinations["a"] = new DestinationOptions { Address = "http://127.0.0.1:9001" };
        options.Destinations["b"] = new DestinationOptions { Address = "http://127.0.0.1:9002" };
        var cluster = new ClusterState("web", options);
        var catalog = new ClusterCatalog();
        catalog.Add(cluster);
        using var meters = new Meters();
        _ = new RampartMetrics(meters, catalog);

        var (a, b) = (cluster.Destinations[0], cluster.Destinations[1]);
        Report(a, CallResult.Success, CallResult.Success, CallResult.Failure);
        Report(b, CallResult.Ignored, CallResult.Success);

        var counts = Collect(meters);
        Assert.Equal(2, counts[("web", "a", "success")]);
        Assert.Equal(1, counts[("web", "a", "failure")]);
        Assert.Equal(0, counts[("web", "a", "ignored")]);
        Assert.Equal(1, counts[("web", "b", "success")]);
        Assert.Equal(0, counts[("web", "b", "failure")]);
        Assert.Equal(1, counts[("web", "b", "ignored")]);

        Report(a, CallResult.Success);
        Assert.Equal(3, Collect(meters)[("web", "a", "success")]); // cumulative, as a counter's sum
    }

    private static void Report(DestinationState destination, params CallResult[] results)
    {
        foreach (var result in results)
        {
            Assert.True(destination.TryAcquire(out var lease));
            destination.Report(lease, result);
        }
    }

    private static Dictionary<(string Cluster, string Destination, string Outcome), long> Collect(Meters meters)
    {
        var counts = new Dictionary<(string, string, string), long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == meters.Created && instrument.Name == "rampart.requests")
            {
                Assert.True(instrument is ObservableCounter<long>);
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var (cluster, destination, outcome) = ("", "", "");
            foreach (var tag in tags)
            {
                _ = tag.Key switch
                {
                    "cluster.id" => cluster = (string)tag.Value!,
                    "destination.id" => destination = (string)tag.Value!,
                    "outcome" => outcome = (string)tag.Value!,
                    _ => "",
                };
            }

            counts[(cluster, destination, outcome)] = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return counts;
    }

    private sealed class Meters : IMeterFactory
    {
        public Meter? Created { get; private set; }

        public Meter Create(MeterOptions options) => Created = new Meter(options);

        public void Dispose() => Created?.Dispose();
    }
}
