using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Diagnostics;

/// <summary>
/// Spans (collected by OpenTelemetry's in-memory exporter): a server span per request continuing the client's W3C
/// trace context, a client span per attempt with why it was retried and whether it counted against the destination,
/// and the attempt's context sent on to the destination — on both data paths.
/// </summary>
/// <remarks>
/// Alone in its collection: an <c>ActivitySource</c> listener is process-wide, and while one listens every other test's
/// requests would be traced too (a <c>traceparent</c> added to what their backends see).
/// </remarks>
[Collection(nameof(TracingTests))]
public sealed class TracingTests
{
    [Theory]
    [InlineData("Yarp")]
    [InlineData("Fast")]
    public async Task ARequestThatFailedOverTwice_AServerSpanAndThreeAttemptSpans_TheDestinationContinuesTheLast(string forwarder)
    {
        var spans = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource("Rampart").AddInMemoryExporter(spans).Build();
        await using var f = await ProxyFixture.StartAsync(backends: 3, settings: new Dictionary<string, string?>
        {
            ["Rampart:Clusters:web:Forwarder"] = forwarder,
            ["Rampart:Clusters:web:LoadBalancing"] = "RoundRobin",
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
            ["Rampart:Clusters:web:HealthCheck:Passive:Enabled"] = "false",
        });
        f.Backends[1].Mode = BackendMode.Error;
        f.Backends[2].Mode = BackendMode.Error;
        f.Backends[0].CaptureHeaders = true;

        // Round robin over three: one of three requests in a row starts at b1, fails over to b2, then b0 answers.
        var traces = new List<(ActivityTraceId Trace, ActivitySpanId ClientSpan)>();
        for (var i = 0; i < 3; i++)
        {
            var (trace, clientSpan) = (ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());
            using var request = new HttpRequestMessage(HttpMethod.Get, "/traced/" + i);
            request.Headers.TryAddWithoutValidation("traceparent", $"00-{trace.ToHexString()}-{clientSpan.ToHexString()}-01");
            using var response = await f.Client.SendAsync(request);
            Assert.Equal("ok from b0", await response.Content.ReadAsStringAsync());
            traces.Add((trace, clientSpan));
        }

        tracing.ForceFlush();
        var threeAttempts = 0;
        foreach (var (trace, clientSpan) in traces)
        {
            var mine = spans.Where(s => s.TraceId == trace).ToList();
            var server = Assert.Single(mine, s => s.OperationName == "rampart.request");
            Assert.Equal(ActivityKind.Server, server.Kind);
            Assert.Equal(clientSpan, server.ParentSpanId); // the client's context continued
            var attempts = mine.Where(s => s.OperationName == "rampart.attempt").OrderBy(s => (int)s.GetTagItem("rampart.attempt")!).ToList();
            Assert.Equal(attempts.Count, (int)server.GetTagItem("rampart.attempts")!);
            Assert.All(attempts, a => Assert.Equal(server.SpanId, a.ParentSpanId));
            Assert.All(attempts, a => Assert.Equal(ActivityKind.Client, a.Kind));
            var last = attempts[^1];
            Assert.Equal("b0", last.GetTagItem("rampart.destination"));
            Assert.Equal("success", last.GetTagItem("rampart.outcome"));
            Assert.Null(last.GetTagItem("rampart.retry_reason"));
            foreach (var failed in attempts.SkipLast(1))
            {
                Assert.Equal("failure", failed.GetTagItem("rampart.outcome"));
                Assert.Equal(true, failed.GetTagItem("rampart.counted_against_destination"));
                Assert.Equal(500, failed.GetTagItem("http.response.status_code"));
                Assert.StartsWith("status", (string)failed.GetTagItem("rampart.retry_reason")!, StringComparison.Ordinal);
            }

            threeAttempts += attempts.Count == 3 ? 1 : 0;
        }

        Assert.True(threeAttempts >= 1, "no request failed over twice");

        // What b0 was told: the trace goes on from the attempt that reached it, not from the client's span.
        var lastTrace = traces[^1].Trace;
        var lastAttempt = spans.Last(s => s.TraceId == lastTrace && s.OperationName == "rampart.attempt");
        Assert.Equal($"00-{lastTrace.ToHexString()}-{lastAttempt.SpanId.ToHexString()}-01", f.Backends[0].LastHeaders!["traceparent"]);
    }

    [Fact]
    public async Task NobodyListening_NoSpan_TheClientsTraceparentPassesAsSent()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?> { ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false" });
        f.Backends[0].CaptureHeaders = true;
        const string Sent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.TryAddWithoutValidation("traceparent", Sent);
        using var response = await f.Client.SendAsync(request);

        Assert.Equal(Sent, f.Backends[0].LastHeaders!["traceparent"]);
    }
}

/// <summary>Runs <see cref="TracingTests"/> with no other test at the same time.</summary>
[CollectionDefinition(nameof(TracingTests), DisableParallelization = true)]
public sealed class TracingRunsAlone;
