using Microsoft.Extensions.Configuration;

namespace Rampart.Configuration;

/// <summary>
/// One section of a configuration as a tree, built in one pass over its keys: linear in the number of keys, where
/// walking <see cref="IConfiguration.GetChildren"/> costs a scan of every key per section (quadratic: 32,000
/// destinations did not load in a minute). The keys come from the caller (the proxy reads its providers' data
/// directly) or, by default, from the section itself.
/// </summary>
internal sealed class ConfigurationTree
{
    private Dictionary<string, ConfigurationTree>? _children;

    private ConfigurationTree(string path, string key)
    {
        Path = path;
        Key = key;
    }

    /// <summary>The full key, such as <c>Rampart:Clusters:web</c>.</summary>
    public string Path { get; }

    /// <summary>The last segment of the key.</summary>
    public string Key { get; }

    /// <summary>The value, when the key has one.</summary>
    public string? Value { get; private set; }

    /// <summary>The children in the configuration's own key order (numbers by value, then names, case-insensitive), as the binder sees them.</summary>
    public IReadOnlyList<ConfigurationTree> Children => _children is null ? [] : [.. _children.Values.OrderBy(c => c.Key, KeyOrder.Instance)];

    /// <summary>Whether the key has children.</summary>
    public bool HasChildren => _children is { Count: > 0 };

    /// <summary>The section named <paramref name="name"/> of <paramref name="configuration"/>, or null when it has no key.</summary>
    /// <param name="configuration">The configuration the section is in.</param>
    /// <param name="name">The section's full key.</param>
    /// <param name="data">Every key and value of the configuration (or more), when the caller can read them faster than the section's own walk.</param>
    public static ConfigurationTree? Read(IConfiguration configuration, string name, IEnumerable<KeyValuePair<string, string?>>? data = null)
    {
        data ??= configuration.GetSection(name).AsEnumerable();
        var root = new ConfigurationTree(name, name[(name.LastIndexOf(':') + 1)..]);
        var any = false;
        foreach (var (key, value) in data)
        {
            if (name.Length == 0 && key.Length > 0)
            {
                root.Add(key, 0, value); // the whole configuration
                any = true;
            }
            else if (key.Length > name.Length && key[name.Length] == ':' && key.StartsWith(name, StringComparison.OrdinalIgnoreCase))
            {
                root.Add(key, name.Length + 1, value);
                any = true;
            }
            else if (key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                root.Value = value;
                any = true;
            }
        }

        return any ? root : null;
    }

    private void Add(string key, int start, string? value)
    {
        var node = this;
        while (true)
        {
            var end = key.IndexOf(':', start);
            var segment = end < 0 ? key[start..] : key[start..end];
            node._children ??= new Dictionary<string, ConfigurationTree>(StringComparer.OrdinalIgnoreCase);
            if (!node._children.TryGetValue(segment, out var child))
            {
                child = new ConfigurationTree(end < 0 ? key : key[..end], segment);
                node._children.Add(segment, child);
            }

            if (end < 0)
            {
                child.Value = value;
                return;
            }

            node = child;
            start = end + 1;
        }
    }

    private sealed class KeyOrder : IComparer<string>
    {
        public static readonly KeyOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            if (x is not [>= '0' and <= '9', ..] && y is not [>= '0' and <= '9', ..])
            {
                return string.Compare(x, y, StringComparison.OrdinalIgnoreCase); // names, the usual case: no number to parse
            }

            var xNumber = int.TryParse(x, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var a);
            var yNumber = int.TryParse(y, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var b);
            return (xNumber, yNumber) switch
            {
                (true, true) => a.CompareTo(b),
                (true, false) => -1,
                (false, true) => 1,
                _ => string.Compare(x, y, StringComparison.OrdinalIgnoreCase),
            };
        }
    }
}
