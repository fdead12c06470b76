using System.Diagnostics;
using Rampart.Diagnostics;
using Rampart.Failover;

namespace Rampart.Proxy.Diagnostics;

/// <summary>
/// The server span of one proxied request (<c>rampart.request</c>), continuing the client's W3C trace context; the
/// attempt spans (the core's) are its children, and the destination hears of the attempt's (<c>traceparent</c>).
/// </summary>
internal static class RequestTracing
{
    /// <summary>Whether anybody listens (nothing else is done while nobody does).</summary>
    public static bool On => RampartTracing.Source.HasListeners();

    public static Activity? Start(string method, string target, string? traceParent, string? traceState, string cluster)
    {
        ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var parent);
        var span = RampartTracing.Source.StartActivity("rampart.request", ActivityKind.Server, parent);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("http.request.method", method);
            span.SetTag("url.path", target);
            span.SetTag("rampart.cluster", cluster);
        }

        return span;
    }

    public static void Stop(Activity? span, int status, in FailoverResult result, bool refused = false)
    {
        if (span is null)
        {
            return;
        }

        if (span.IsAllDataRequested)
        {
            span.SetTag("http.response.status_code", status);
            span.SetTag("rampart.attempts", result.Attempts);
            span.SetTag("rampart.destination", result.Destination?.Id);
            span.SetTag("rampart.outcome", refused ? "refused" : result.Outcome.ToString());
            if (status >= 500 || result.Outcome is FailoverOutcome.ResponseBroken)
            {
                span.SetStatus(ActivityStatusCode.Error);
            }
        }

        span.Dispose();
    }

    /// <summary>The attempt's <c>traceparent</c> (and <c>tracestate</c>) for the destination, when tracing is on; the client's own are replaced.</summary>
    public static (string TraceParent, string? TraceState)? ForDestination() =>
        RampartTracing.CurrentAttempt is { } attempt ? (RampartTracing.TraceParent(attempt), attempt.TraceStateString) : null;

    /// <summary>Whether <paramref name="name"/> is a trace context header (replaced by the attempt's when tracing is on).</summary>
    public static bool IsTraceHeader(ReadOnlySpan<char> name) =>
        name.Equals("traceparent", StringComparison.OrdinalIgnoreCase) || name.Equals("tracestate", StringComparison.OrdinalIgnoreCase);
}
