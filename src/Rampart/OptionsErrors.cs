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
}
