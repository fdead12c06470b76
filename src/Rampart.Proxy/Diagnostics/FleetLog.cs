using Microsoft.Extensions.Logging;

namespace Rampart.Proxy.Diagnostics;

// Event ids 8000-8099: the fleet. An outage is logged when it starts and when it ends, never per heartbeat.
internal static partial class FleetLog
{
    [LoggerMessage(EventId = 8001, Level = LogLevel.Information, Message = "Joined fleet {Fleet} as replica {Replica}")]
    public static partial void Joined(ILogger logger, string fleet, string replica);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Warning, Message = "Fleet {Fleet}: Redis is unreachable ({Error}; it had been reachable: {WasConnected}); this replica decides alone until it is back")]
    public static partial void Degraded(ILogger logger, string fleet, string error, bool wasConnected);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Information, Message = "Fleet {Fleet}: Redis is reachable again; resynced")]
    public static partial void Reconnected(ILogger logger, string fleet);
}
