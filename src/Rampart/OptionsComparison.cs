using System.Text.Json;

namespace Rampart;

/// <summary>Whether two option objects say the same thing, property by property (a reload keeps what did not change).</summary>
internal static class OptionsComparison
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public static bool Same<T>(T a, T b)
        where T : class =>
        ReferenceEquals(a, b) || JsonSerializer.Serialize(a, a.GetType(), Json) == JsonSerializer.Serialize(b, b.GetType(), Json);
}
