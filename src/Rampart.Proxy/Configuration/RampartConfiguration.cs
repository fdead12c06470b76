using System.Net;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Configuration;

namespace Rampart.Proxy.Configuration;

/// <summary>Reads and validates the <c>Rampart</c> section: every problem at once, each naming its full key.</summary>
public static class RampartConfiguration
{
    /// <summary>The proxy's listen URL when <c>Rampart:Listen</c> is empty.</summary>
    public const string DefaultListen = "http://127.0.0.1:8080";

    /// <summary>Binds and validates the <c>Rampart</c> section of <paramref name="configuration"/>.</summary>
    /// <param name="configuration">The whole configuration (the section is looked up by name).</param>
    /// <param name="errors">Every problem found, each naming its key; empty when the options are valid.</param>
    /// <returns>The options, bound as far as possible even when invalid.</returns>
    public static RampartOptions Load(IConfiguration configuration, out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(RampartOptions.SectionName);
        var found = new List<string>();
        var options = new RampartOptions();
        if (!section.Exists())
        {
            found.Add($"{RampartOptions.SectionName} is missing: the configuration needs at least one route and one cluster");
            errors = found;
            return options;
        }

        ConfigurationShape.Check(section, typeof(RampartOptions), found);
        var bound = true;
        try
        {
            section.Bind(options);
        }
        catch (InvalidOperationException)
        {
            bound = false; // a value that does not convert: already reported, with its key, by the shape check
        }

        if (options.Listen.Count == 0)
        {
            options.Listen.Add(DefaultListen);
        }

        if (bound)
        {
            Validate(options, found);
        }

        errors = found;
        return options;
    }

    /// <summary>Every problem with already-bound options, each naming its key under <c>Rampart</c>.</summary>
    public static IReadOnlyList<string> Validate(RampartOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        Validate(options, errors);
        return errors;
    }

    private static void Validate(RampartOptions options, List<string> errors)
    {
        const string root = RampartOptions.SectionName;
        for (var i = 0; i < options.Listen.Count; i++)
        {
            CheckUrl(options.Listen[i], $"{root}:Listen:{i}", errors);
        }

        if (options.ShutdownTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{root}:ShutdownTimeout must be positive (was {options.ShutdownTimeout})");
        }

        ValidateAdmin(options.Admin, errors);
        errors.AddRange(options.Limits.Validate($"{root}:Limits"));
        if (options.Routes.Count == 0)
        {
            errors.Add($"{root}:Routes must have at least one route");
        }

        var routeIds = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.Routes.Count; i++)
        {
            var route = options.Routes[i];
            var key = $"{root}:Routes:{i}";
            if (string.IsNullOrWhiteSpace(route.Id))
            {
                errors.Add($"{key}:Id is required");
            }
            else if (!routeIds.Add(route.Id))
            {
                errors.Add($"{key}:Id '{route.Id}' is used by another route");
            }

            if (string.IsNullOrWhiteSpace(route.Cluster))
            {
                errors.Add($"{key}:Cluster is required");
            }
            else if (!options.Clusters.ContainsKey(route.Cluster))
            {
                errors.Add($"{key}:Cluster '{route.Cluster}' is not a configured cluster (configured: {string.Join(", ", options.Clusters.Keys)})");
            }

            try
            {
                RoutePatternFactory.Parse(route.Match.Path);
            }
            catch (RoutePatternException ex)
            {
                errors.Add($"{key}:Match:Path '{route.Match.Path}' is not a valid route pattern: {ex.Message}");
            }
        }

        if (options.Clusters.Count == 0)
        {
            errors.Add($"{root}:Clusters must have at least one cluster");
        }

        foreach (var (id, cluster) in options.Clusters)
        {
            errors.AddRange(cluster.Validate($"{root}:Clusters:{id}"));
        }
    }

    private static void ValidateAdmin(AdminOptions admin, List<string> errors)
    {
        const string key = $"{RampartOptions.SectionName}:Admin:Listen";
        if (string.IsNullOrEmpty(admin.Listen) || !CheckUrl(admin.Listen, key, errors))
        {
            return;
        }

        var host = new Uri(admin.Listen).Host;
        var loopback = host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
        if (!loopback && string.IsNullOrEmpty(admin.Token))
        {
            errors.Add($"{key} '{admin.Listen}' is not a loopback address: set {RampartOptions.SectionName}:Admin:Token to expose the admin endpoints beyond this machine");
        }
    }

    private static bool CheckUrl(string? value, string key, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{key} is required");
            return false;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{key} must be an absolute http:// or https:// URL (was {value})");
            return false;
        }

        return true;
    }
}
