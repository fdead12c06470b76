using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Configuration;
using Rampart.Configuration;

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
        var found = new List<string>();
        var options = new RampartOptions();
        const string name = RampartOptions.SectionName;
        if (ConfigurationTree.Read(configuration, name, ConfigurationData.Under(configuration, name)) is not { } section)
        {
            found.Add($"{RampartOptions.SectionName} is missing: the configuration needs at least one route and one cluster");
            errors = found;
            return options;
        }

        var reader = new OptionsReader(found);
        reader.Bind(section, options);
        if (options.Listen.Count == 0 && options.Listeners.Count == 0)
        {
            options.Listen.Add(DefaultListen);
        }

        // A value that did not convert is reported once, for its key: no follow-on errors from the default left in its place.
        found.AddRange(Validate(options).Where(e => !reader.Masks(e)));
        errors = found;
        if (found.Count == 0)
        {
            OptionsTree.Freeze(options); // validated once: from here on an immutable snapshot, never validated again
        }

        return options;
    }

    /// <summary>
    /// The one validation of <paramref name="options"/> (every problem at once, each under <c>Rampart</c>) and an immutable
    /// snapshot of them; options loaded by <see cref="Load"/> are a snapshot already and are not validated again.
    /// </summary>
    internal static RampartOptions? Snapshot(RampartOptions options, out IReadOnlyList<string> errors)
    {
        errors = options.IsFrozen ? [] : Validate(options);
        return errors.Count > 0 ? null : OptionsTree.Snapshot(options);
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
        var bound = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var checkedTls = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, url, _, tls, tlsKey) in ListenAddresses.All(options))
        {
            var uri = ListenAddresses.Check(url, key, errors, hasCertificate: tls.IsConfigured);
            if (uri is not null && uri.Port != 0 && !bound.Add($"{uri.Host}:{uri.Port}"))
            {
                errors.Add($"{key} listens on the same address and port as another listener (was {url})");
            }

            if (uri?.Scheme == Uri.UriSchemeHttps && tls.IsConfigured && checkedTls.Add(tlsKey))
            {
                // The files must exist and load now: a certificate that cannot be read is a configuration error, not a crash at start.
                foreach (var (certificateKey, _, certificate) in tls.Certificates(tlsKey))
                {
                    using var loaded = Rampart.Tls.CertificateFiles.TryLoad(certificate, certificateKey, out var error);
                    if (error is not null)
                    {
                        errors.Add(error);
                    }
                }
            }
        }

        if (options.ShutdownTimeout <= TimeSpan.Zero || options.ShutdownTimeout > TimeSpan.FromHours(1))
        {
            errors.Add($"{root}:ShutdownTimeout must be positive and at most 01:00:00 (was {options.ShutdownTimeout})");
        }

        ValidateAdmin(options.Admin, errors);
        if (options.Telemetry.Otlp.Endpoint.Length > 0 && !(Uri.TryCreate(options.Telemetry.Otlp.Endpoint, UriKind.Absolute, out var otlp) && otlp.Scheme is "http" or "https"))
        {
            errors.Add($"{root}:Telemetry:Otlp:Endpoint must be an absolute http:// or https:// URL (was {options.Telemetry.Otlp.Endpoint})");
        }

        if (options.Telemetry.SamplingRatio is < 0 or > 1 or double.NaN)
        {
            errors.Add($"{root}:Telemetry:SamplingRatio must be between 0 and 1 (was {options.Telemetry.SamplingRatio})");
        }

        if (options.AccessLog.Path.Length > 0 && Path.GetDirectoryName(Path.GetFullPath(options.AccessLog.Path)) is { } folder && !Directory.Exists(folder))
        {
            errors.Add($"{root}:AccessLog:Path '{options.AccessLog.Path}' is in a folder that does not exist ({folder})");
        }

        if (options.Server.Transport == ServerTransport.Epoll && !Transport.EpollNative.IsSupported)
        {
            errors.Add($"{root}:Server:Transport Epoll runs on Linux x64 only (this is {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}): use Sockets");
        }

        errors.AddRange(options.Limits.Validate($"{root}:Limits"));
        errors.AddRange(options.Dns.Validate($"{root}:Dns"));
        errors.AddRange(options.Fleet.Validate($"{root}:Fleet"));
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
        if (string.IsNullOrEmpty(admin.Listen) || ListenAddresses.Check(admin.Listen, key, errors, allowHttps: false) is not { } uri)
        {
            return;
        }

        if (!ListenAddresses.IsLoopback(uri) && string.IsNullOrEmpty(admin.Token))
        {
            errors.Add($"{key} '{admin.Listen}' is not a loopback address: set {RampartOptions.SectionName}:Admin:Token to expose the admin endpoints beyond this machine");
        }
    }
}
