using Microsoft.Extensions.Logging;

namespace Rampart.Health;

// Event ids 2000-2099: active health checking.
public sealed partial class ActiveHealthProber
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Probe of {ClusterId}/{DestinationId} failed after {DurationMs:0} ms: {Detail}")]
        public static partial void ProbeFailed(ILogger logger, string clusterId, string destinationId, string detail, double durationMs);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "Probe of {ClusterId}/{DestinationId} started at generation {Generation} came back after the destination changed; ignored")]
        public static partial void StaleProbeIgnored(ILogger logger, string clusterId, string destinationId, long generation);

        [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "Probing {ClusterId}/{DestinationId} failed on an unexpected error; probing goes on")]
        public static partial void ProbeLoopCrashed(ILogger logger, Exception exception, string clusterId, string destinationId);
    }
}
