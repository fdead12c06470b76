using System.Globalization;

namespace Rampart.Health;

/// <summary>A set of HTTP status codes written as ranges: <c>"200-299"</c>, <c>"500,502-504"</c>.</summary>
/// <remarks>Lookup is one bit test, with no allocation: fit for the request path.</remarks>
public sealed class StatusCodeSet
{
    private const int Limit = 1000;
    private readonly ulong[] _bits = new ulong[(Limit + 63) / 64];

    private StatusCodeSet(string text) => Text = text;

    /// <summary>The set as written.</summary>
    public string Text { get; }

    /// <summary>Whether <paramref name="statusCode"/> is in the set.</summary>
    public bool Contains(int statusCode) =>
        (uint)statusCode < Limit && (_bits[statusCode >> 6] & (1UL << (statusCode & 63))) != 0;

    /// <summary>Parses <paramref name="text"/>: comma-separated codes or ranges (<c>a-b</c>), each within 100–999.</summary>
    /// <returns><see langword="false"/> when the text is not such a list.</returns>
    public static bool TryParse(string? text, out StatusCodeSet set)
    {
        set = new StatusCodeSet(text ?? "");
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            var (low, high) = dash < 0 ? (part, part) : (part[..dash].Trim(), part[(dash + 1)..].Trim());
            if (!int.TryParse(low, NumberStyles.None, CultureInfo.InvariantCulture, out var from)
                || !int.TryParse(high, NumberStyles.None, CultureInfo.InvariantCulture, out var to)
                || from < 100 || to >= Limit || from > to)
            {
                return false;
            }

            for (var code = from; code <= to; code++)
            {
                set._bits[code >> 6] |= 1UL << (code & 63);
            }
        }

        return true;
    }

    /// <summary>Parses <paramref name="text"/>; see <see cref="TryParse(string?, out StatusCodeSet)"/>.</summary>
    /// <exception cref="FormatException">The text is not a list of codes and ranges.</exception>
    public static StatusCodeSet Parse(string text) =>
        TryParse(text, out var set) ? set : throw new FormatException($"'{text}' is not a list of status codes and ranges such as \"200-299\" or \"500,502-504\".");

    /// <inheritdoc/>
    public override string ToString() => Text;
}
