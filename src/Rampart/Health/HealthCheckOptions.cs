namespace Rampart.Health;

/// <summary>A cluster's health checking: the <c>HealthCheck</c> section, with <c>Active</c> and <c>Passive</c>.</summary>
public sealed class HealthCheckOptions
{
    /// <summary>Probes on a schedule.</summary>
    public ActiveHealthOptions Active { get; set; } = new();

    /// <summary>Ejection on real traffic.</summary>
    public PassiveHealthOptions Passive { get; set; } = new();

    /// <summary>Every problem with these options, each naming its key under <paramref name="prefix"/>; empty when valid.</summary>
    /// <param name="prefix">The configuration path of this section, such as <c>Rampart:Clusters:web:HealthCheck</c>.</param>
    public IReadOnlyList<string> Validate(string prefix = "")
    {
        var errors = new OptionsErrors(prefix);
        errors.AddRange(Active.Validate(errors.Key(nameof(Active))));
        errors.AddRange(Passive.Validate(errors.Key(nameof(Passive))));
        return errors.Errors;
    }
}
