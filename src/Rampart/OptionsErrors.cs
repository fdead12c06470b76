using System.Globalization;

namespace Rampart;

/// <summary>Collects every problem with a set of options, each naming its full configuration key.</summary>
internal sealed class OptionsErrors(string prefix)
{
    private readonly List<string> _errors = [];

    public IReadOnlyList<string> Errors => _errors;

    public string Key(string name) => prefix.Length == 0 ? name : prefix + ":" + name;

    /// <summary>Adds "<c>{prefix}:{name} {rule} (was {value})</c>" unless <paramref name="ok"/>.</summary>
    public void Check(bool ok, string name, string rule, object? value)
    {
        if (!ok)
        {
            _errors.Add(string.Create(CultureInfo.InvariantCulture, $"{Key(name)} {rule} (was {value ?? "null"})"));
        }
    }

    public void AddRange(IEnumerable<string> errors) => _errors.AddRange(errors);

    /// <summary>
    /// The longest duration any setting may have: one day. Longer ones are mistakes (a bare "5" read as five days),
    /// and past about 49 days the runtime's timers cannot take them at all.
    /// </summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    /// <summary>Checks that every duration is at most <see cref="MaxDuration"/>.</summary>
    public void AtMostADay(params (string Name, TimeSpan? Value)[] durations)
    {
        foreach (var (name, value) in durations)
        {
            Check(value is null || value <= MaxDuration, name, "must be at most 1.00:00:00 (one day)", value);
        }
    }

    /// <summary>Checks that a count is at most <paramref name="max"/>.</summary>
    public void AtMost(long value, long max, string name) =>
        Check(value <= max, name, string.Create(CultureInfo.InvariantCulture, $"must be at most {max}"), value);
}
