using Rampart.Clusters;
using Rampart.Configuration;

namespace Rampart.Proxy.Configuration;

/// <summary>What a reload changes, one line each, for its result, its log line and <c>/status</c>.</summary>
internal static class ConfigurationChanges
{
    public static void Cluster(ClusterState old, ClusterState reconfigured, List<string> changes)
    {
        var before = old.Destinations.ToDictionary(d => d.Id, StringComparer.OrdinalIgnoreCase);
        var after = reconfigured.Destinations.ToDictionary(d => d.Id, StringComparer.OrdinalIgnoreCase);
        foreach (var d in reconfigured.Destinations)
        {
            if (!before.TryGetValue(d.Id, out var was))
            {
                changes.Add($"cluster {old.Id}: destination {d.Id} added ({d.Address})");
            }
            else if (was.Address != d.Address)
            {
                changes.Add($"cluster {old.Id}: destination {d.Id} moved to {d.Address} (starts afresh)");
            }
        }

        foreach (var d in old.Destinations.Where(d => !after.ContainsKey(d.Id)))
        {
            changes.Add($"cluster {old.Id}: destination {d.Id} removed");
        }

        var settings = Settings(old.Options, reconfigured.Options);
        if (settings.Count > 0)
        {
            changes.Add($"cluster {old.Id}: {string.Join(", ", settings)} changed (destinations that stay keep their state)");
        }
    }

    private static List<string> Settings(ClusterOptions a, ClusterOptions b)
    {
        var changed = new List<string>();
        void Check(string name, object x, object y)
        {
            if (!OptionsTree.Same(x, y))
            {
                changed.Add(name);
            }
        }

        Check(nameof(a.LoadBalancing), a.LoadBalancing, b.LoadBalancing);
        Check(nameof(a.HealthCheck) + ":Active", a.HealthCheck.Active, b.HealthCheck.Active);
        Check(nameof(a.HealthCheck) + ":Passive", a.HealthCheck.Passive, b.HealthCheck.Passive);
        Check(nameof(a.CircuitBreaker), a.CircuitBreaker, b.CircuitBreaker);
        Check(nameof(a.Retry), a.Retry, b.Retry);
        Check(nameof(a.AttemptTimeout), a.AttemptTimeout, b.AttemptTimeout);
        Check(nameof(a.Timeout), a.Timeout, b.Timeout);
        Check(nameof(a.FailureStatusCodes), a.FailureStatusCodes, b.FailureStatusCodes);
        Check(nameof(a.SlowStartWindow), a.SlowStartWindow, b.SlowStartWindow);
        Check(nameof(a.PanicThreshold), a.PanicThreshold, b.PanicThreshold);
        Check(nameof(a.MaxConnectionsPerDestination), a.MaxConnectionsPerDestination, b.MaxConnectionsPerDestination);
        Check(nameof(a.HttpVersion), a.HttpVersion, b.HttpVersion);
        return changed;
    }

    public static void Routes(RampartOptions a, RampartOptions b, List<string> changes)
    {
        var before = a.Routes.ToDictionary(r => r.Id, StringComparer.OrdinalIgnoreCase);
        var after = b.Routes.ToDictionary(r => r.Id, StringComparer.OrdinalIgnoreCase);
        foreach (var route in b.Routes)
        {
            if (!before.TryGetValue(route.Id, out var was))
            {
                changes.Add($"route {route.Id} added ({route.Match.Path} → {route.Cluster})");
            }
            else if (!OptionsTree.Same(was, route))
            {
                changes.Add($"route {route.Id} changed ({route.Match.Path} → {route.Cluster})");
            }
        }

        changes.AddRange(a.Routes.Where(r => !after.ContainsKey(r.Id)).Select(r => $"route {r.Id} removed"));
        if (changes.Count == 0 && !a.Routes.Select(r => r.Id).SequenceEqual(b.Routes.Select(r => r.Id), StringComparer.OrdinalIgnoreCase))
        {
            changes.Add("routes reordered");
        }
    }

    public static void RestartSettings(RampartOptions a, RampartOptions b, List<string> changes)
    {
        const string root = RampartOptions.SectionName;
        if (!a.Listen.SequenceEqual(b.Listen) || !OptionsTree.Same(a.Listeners, b.Listeners))
        {
            changes.Add($"{root}:Listen changed: takes effect at the next start");
        }

        if (!OptionsTree.Same(a.Limits, b.Limits))
        {
            changes.Add($"{root}:Limits changed: takes effect at the next start");
        }

        if (!OptionsTree.Same(a.Admin, b.Admin))
        {
            changes.Add($"{root}:Admin changed: takes effect at the next start");
        }

        if (a.ShutdownTimeout != b.ShutdownTimeout)
        {
            changes.Add($"{root}:ShutdownTimeout changed: takes effect at the next start");
        }
    }
}
