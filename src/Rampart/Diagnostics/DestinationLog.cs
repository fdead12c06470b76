using Microsoft.Extensions.Logging;
using Rampart.Destinations;

namespace Rampart.Diagnostics;

// Event ids 1000-1099: destination state transitions (one line per transition, with its reason).
internal static partial class DestinationLog
{
    public static void Transition(ILogger logger, DestinationState destination, DestinationTransition t)
    {
        if (t.To.IsOut)
        {
            WentOut(logger, destination.ClusterId, destination.Id, t.Signal, t.From, t.To, t.Reason, t.Generation);
        }
        else
        {
            Changed(logger, destination.ClusterId, destination.Id, t.Signal, t.From, t.To, t.Reason, t.Generation);
        }
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Destination {ClusterId}/{DestinationId} {Signal}: {From} -> {To}: {Reason} (generation {Generation})")]
    private static partial void WentOut(ILogger logger, string clusterId, string destinationId, HealthSignal signal, SignalState from, SignalState to, string reason, long generation);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Destination {ClusterId}/{DestinationId} {Signal}: {From} -> {To}: {Reason} (generation {Generation})")]
    private static partial void Changed(ILogger logger, string clusterId, string destinationId, HealthSignal signal, SignalState from, SignalState to, string reason, long generation);
}
