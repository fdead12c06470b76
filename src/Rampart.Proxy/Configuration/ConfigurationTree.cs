using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Rampart.Proxy.Configuration;

/// <summary>
/// One section of a configuration as a tree, read in one pass over the providers' data: linear in the number of
/// keys, where walking <see cref="IConfiguration.GetChildren"/> costs a scan of every key per section (quadratic:
/// 32,000 destinations did not load in a minute).
/// </summary>
internal sealed class ConfigurationTree
{
    // The providers' key/value data; protected on ConfigurationProvider, the base of the JSON, memory, environment and command-line providers.
    private static readonly PropertyInfo? DataProperty = typeof(ConfigurationProvider).GetProperty("Data", BindingFlags.Instance | BindingFlags.NonPublic);

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

    /// <summary>The children, by key (case-insensitive).</summary>
    public IReadOnlyCollection<ConfigurationTree> Children => _children is null ? [] : _children.Values;

    /// <summary>Whether the key has children.</summary>
    public bool HasChildren => _children is { Count: > 0 };

    /// <summary>The section named <paramref name="name"/> of <paramref name="configuration"/>, or null when it has no key.</summary>
    public static ConfigurationTree? Read(IConfiguration configuration, string name)
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (!TryCollect(configuration, name, data))
        {
            data.Clear();
            foreach (var (key, value) in configuration.GetSection(name).AsEnumerable())
            {
                data[key] = value;
            }
        }

        var root = new ConfigurationTree(name, name);
        var any = false;
        foreach (var (key, value) in data)
        {
            if (key.Length > name.Length && key[name.Length] == ':' && key.StartsWith(name, StringComparison.OrdinalIgnoreCase))
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

    // Later providers win, as in ConfigurationRoot; false when some provider's data cannot be read directly.
    private static bool TryCollect(IConfiguration configuration, string name, Dictionary<string, string?> data)
    {
        if (configuration is not IConfigurationRoot root || DataProperty is null)
        {
            return false;
        }

        foreach (var provider in root.Providers)
        {
            switch (provider)
            {
                case ChainedConfigurationProvider chained:
                    if (!TryCollect(chained.Configuration, name, data))
                    {
                        return false;
                    }

                    break;
                case ConfigurationProvider plain when DataProperty.GetValue(plain) is IDictionary<string, string?> pairs:
                    foreach (var (key, value) in pairs)
                    {
                        if (key.StartsWith(name, StringComparison.OrdinalIgnoreCase))
                        {
                            data[key] = value;
                        }
                    }

                    break;
                default:
                    return false;
            }
        }

        return true;
    }
}
