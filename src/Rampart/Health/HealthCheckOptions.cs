using Rampart.Configuration;

namespace Rampart.Health;

/// <summary>A cluster's health checking: the <c>HealthCheck</c> section, with <c>Active</c> and <c>Passive</c>.</summary>
public sealed class HealthCheckOptions : FreezableOptions
{
    /// <summary>Probes on a schedule.</summary>
    public ActiveHealthOptions Active { get; set => field = Settable(value); } = new();

    /// <summary>Ejection on real traffic.</summary>
    public PassiveHealthOptions Passive { get; set => field = Settable(value); } = new();

    /// <summary>Validates these options once and returns them as an immutable snapshot (themselves, when they are one already).</summary>
    /// <param name="prefix">The configuration path of this section, that every problem is reported under.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem, each naming its key.</exception>
    public HealthCheckOptions ToSnapshot(string prefix = "HealthCheck") => OptionsTree.Validated(this, o => o.Validate(prefix), "health check options");

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
