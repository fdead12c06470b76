using Microsoft.Extensions.Logging;

namespace Rampart.Diagnostics;

/// <summary>The attempt loop's log lines (category <c>Rampart.Failover</c>), event ids 3001–3005.</summary>
internal static partial class FailoverLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Cluster {ClusterId}: {DestinationId} answered {Status} on attempt {Attempt}; retrying on another destination")]
    public static partial void RetryingAfterStatus(ILogger logger, string clusterId, string destinationId, string? status, int attempt);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Debug, Message = "Cluster {ClusterId}: {DestinationId} failed on attempt {Attempt} ({Detail}); retrying on another destination")]
    public static partial void RetryingAfterError(ILogger logger, string clusterId, string destinationId, string detail, int attempt);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Cluster {ClusterId}: no destination available (503)")]
    public static partial void NoDestination(ILogger logger, string clusterId);

    // One line, no stack trace, at most one per destination and kind of failure every 10 s.
    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Cluster {ClusterId}: {DestinationId} failed: {Detail} ({Suppressed} more like it not logged since the last such line)")]
    public static partial void DestinationFailed(ILogger logger, string clusterId, string destinationId, string detail, int suppressed);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Debug, Message = "Cluster {ClusterId}: a request to {DestinationId} failed, not because of the destination ({Detail}): not counted against it")]
    public static partial void NotTheDestinations(ILogger logger, string clusterId, string destinationId, string detail);
}
