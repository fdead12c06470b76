using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Rampart.Proxy.Configuration;

/// <summary>Every key and value of a configuration, read from its providers' data in one pass (later providers win, as in <see cref="ConfigurationRoot"/>).</summary>
internal static class ConfigurationData
{
    // The providers' key/value data; protected on ConfigurationProvider, the base of the JSON, memory, environment and command-line providers.
    private static readonly PropertyInfo? DataProperty = typeof(ConfigurationProvider).GetProperty("Data", BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>The keys under <paramref name="name"/>, or null when some provider's data cannot be read directly (then the section walks itself).</summary>
    public static Dictionary<string, string?>? Under(IConfiguration configuration, string name)
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        return TryCollect(configuration, name, data) ? data : null;
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
