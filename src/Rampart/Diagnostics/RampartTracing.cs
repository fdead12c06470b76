using System.Diagnostics;

namespace Rampart.Diagnostics;

/// <summary>
/// Rampart's spans (<see cref="ActivitySource"/> <c>Rampart</c>): a server span per proxied request and a client span per
/// attempt. Nothing is created, parsed or written while nobody listens (tracing off costs a check).
/// </summary>
public static class RampartTracing
{
    /// <summary>The source's name, to subscribe to (<c>AddSource("Rampart")</c>).</summary>
    public const string SourceName = "Rampart";

    internal static readonly ActivitySource Source = new(SourceName);

    /// <summary>The attempt span in progress, when tracing is on: its context is what the destination is told (<c>traceparent</c>).</summary>
    internal static Activity? CurrentAttempt => Activity.Current is { } current && ReferenceEquals(current.Source, Source) && current.Kind == ActivityKind.Client ? current : null;

    /// <summary>The W3C <c>traceparent</c> value of <paramref name="activity"/>.</summary>
    internal static string TraceParent(Activity activity) =>
        "00-" + activity.TraceId.ToHexString() + "-" + activity.SpanId.ToHexString() + (activity.Recorded ? "-01" : "-00");
}
