using Microsoft.Extensions.Logging;

namespace Rampart.Proxy.Diagnostics;

// Event ids 4000-4099: configuration reloads. (CA1873: the joins below are guarded by IsEnabled; the analyzer does not see it.)
#pragma warning disable CA1873
internal static partial class ConfigurationLog
{
    public static void Applied(ILogger logger, IReadOnlyList<string> changes)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            Applied(logger, string.Join("; ", changes));
        }
    }

    public static void Rejected(ILogger logger, IReadOnlyList<string> errors)
    {
        if (logger.IsEnabled(LogLevel.Error))
        {
            Rejected(logger, errors.Count, string.Join("; ", errors));
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Configuration reloaded: {Changes}")]
    private static partial void Applied(ILogger logger, string changes);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Error, Message = "Configuration reload rejected; the running configuration stays ({Count} problem(s)): {Errors}")]
    private static partial void Rejected(ILogger logger, int count, string errors);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Debug, Message = "Configuration reloaded: nothing changed")]
    public static partial void Unchanged(ILogger logger);
}
