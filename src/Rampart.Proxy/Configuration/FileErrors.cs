using System.Globalization;
using System.Text.Json;

namespace Rampart.Proxy.Configuration;

/// <summary>Why a configuration file did not load, in one line: for JSON, the line and position of the first error.</summary>
public static class FileErrors
{
    /// <summary>Describes <paramref name="error"/>, thrown while loading a configuration file.</summary>
    public static string Describe(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is JsonException { LineNumber: { } line, BytePositionInLine: { } position } json)
            {
                // JsonException counts from 0, and its message repeats the position in that form: say it once, as editors do.
                var message = json.Message;
                var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
                return string.Create(CultureInfo.InvariantCulture, $"not valid JSON at line {line + 1}, position {position + 1}: {(cut > 0 ? message[..cut] : message)}");
            }
        }

        var innermost = error;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        return ReferenceEquals(innermost, error)
            ? error.Message
            : string.Create(CultureInfo.InvariantCulture, $"{error.Message.TrimEnd('.')}: {innermost.Message}");
    }
}
