using Microsoft.Extensions.Logging;
using Rampart.Clusters;

namespace Rampart.Proxy.Diagnostics;

// Event ids 7000-7099: DNS discovery. A name's failure is logged when it starts and when it ends, never per retry.
#pragma warning disable CA1873 // the join below is guarded by IsEnabled; the analyzer does not see it
internal static partial class DiscoveryLog
{
    public static void Applied(ILogger logger, IReadOnlyList<string> changes)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            Applied(logger, string.Join("; ", changes));
        }
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Discovered destinations changed: {Changes}")]
    private static partial void Applied(ILogger logger, string changes);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "Resolving {Host} ({Mode}) failed: {Error}; its last {Count} address(es) stay until it resolves again")]
    public static partial void Failing(ILogger logger, string host, DiscoveryMode mode, string error, int count);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Information, Message = "Resolving {Host} ({Mode}) works again: {Count} address(es)")]
    public static partial void Recovered(ILogger logger, string host, DiscoveryMode mode, int count);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Error, Message = "A discovery pass failed; the running destinations stay, and it is tried again in 1 s")]
    public static partial void PassFailed(ILogger logger, Exception exception);
}
