using Microsoft.Extensions.Logging;

namespace Rampart.Proxy.Forwarding;

// Event ids 3000-3099: forwarding and failover.
internal sealed partial class ClusterForwarder
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Cluster {ClusterId}: {DestinationId} answered {Status} on attempt {Attempt}; retrying on another destination")]
        public static partial void RetryingAfterStatus(ILogger logger, string clusterId, string destinationId, string? status, int attempt);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Debug, Message = "Cluster {ClusterId}: {DestinationId} failed on attempt {Attempt} ({Detail}); retrying on another destination")]
        public static partial void RetryingAfterError(ILogger logger, string clusterId, string destinationId, string detail, int attempt);

        [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Cluster {ClusterId}: no destination available; answered 503")]
        public static partial void NoDestination(ILogger logger, string clusterId);
    }
}
