using System.Globalization;

namespace Rampart.Configuration;

/// <summary>Durations as people type them: <c>TimeSpan</c> strings (<c>"00:00:05"</c>) or unit forms (<c>"250ms"</c>, <c>"5s"</c>, <c>"2m"</c>, <c>"1h"</c>, <c>"1d"</c>).</summary>
/// <remarks>A bare number is refused: .NET reads <c>"5"</c> as five days, which nobody means.</remarks>
internal static class Durations
{
    /// <summary>How a duration is written, for messages.</summary>
    public const string Expected = "a duration such as \"00:00:05\", \"5s\" or \"250ms\"";

    private static readonly System.Buffers.SearchValues<char> Number = System.Buffers.SearchValues.Create("0123456789.");

    public static bool TryParse(string text, out TimeSpan value)
    {
        var span = text.AsSpan().Trim();
        value = default;
        if (span.IsEmpty)
        {
            return false;
        }

        var digits = span.IndexOfAnyExcept(Number);
        if (digits < 0)
        {
            return false; // a bare number: days to .NET, seconds or milliseconds to most people
        }

        if (digits > 0 && Unit(span[digits..]) is { } unit)
        {
            if (!double.TryParse(span[..digits], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            {
                return false;
            }

            var ticks = amount * unit.Ticks;
            if (!double.IsFinite(ticks) || ticks > TimeSpan.MaxValue.Ticks)
            {
                return false;
            }

            value = TimeSpan.FromTicks((long)ticks);
            return true;
        }

        return TimeSpan.TryParse(span, CultureInfo.InvariantCulture, out value);
    }

    private static TimeSpan? Unit(ReadOnlySpan<char> suffix) => suffix switch
    {
        "ms" => TimeSpan.FromMilliseconds(1),
        "s" => TimeSpan.FromSeconds(1),
        "m" => TimeSpan.FromMinutes(1),
        "h" => TimeSpan.FromHours(1),
        "d" => TimeSpan.FromDays(1),
        _ => null,
    };
}
