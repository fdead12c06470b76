using Rampart.Configuration;

namespace Rampart.Health;

/// <summary>Active health checking of a cluster's destinations: what a probe is, how often, and when a result counts.</summary>
public sealed class ActiveHealthOptions : FreezableOptions
{
    /// <summary>Whether destinations are probed. Default <see langword="false"/>: every destination stays <see cref="ActiveHealthState.Unknown"/> (available).</summary>
    public bool Enabled { get; set => field = Settable(value); }

    /// <summary>HTTP or TCP probes. Default <see cref="ProbeMode.Http"/>.</summary>
    public ProbeMode Mode { get; set => field = Settable(value); } = ProbeMode.Http;

    /// <summary>The path (and query) an HTTP probe GETs, relative to the destination's address. Default <c>"/"</c>; must start with '/'.</summary>
    public string Path { get; set => field = Settable(value); } = "/";

    /// <summary>Time between the end of one probe of a destination and the start of the next. Default 5 s; positive.</summary>
    public TimeSpan Interval { get; set => field = Settable(value); } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The interval while a destination is unhealthy or its state is changing (a pass after failures or the reverse),
    /// so recovery and failure are confirmed sooner. Default 1 s (never longer than <see cref="Interval"/>); positive.
    /// </summary>
    public TimeSpan UnhealthyInterval { get; set => field = Settable(value); } = TimeSpan.FromSeconds(1);

    /// <summary>A probe that has not passed within this fails ("timed out"); a hung destination costs at most this. Default 2 s; positive.</summary>
    public TimeSpan Timeout { get; set => field = Settable(value); } = TimeSpan.FromSeconds(2);

    /// <summary>Each wait is shortened by a random part of up to this fraction, so that probes of many destinations spread out. Default 0.1; 0 to 0.5.</summary>
    public double Jitter { get; set => field = Settable(value); } = 0.1;

    /// <summary>Consecutive passes that make an Unhealthy destination Healthy. Default 2; at least 1.</summary>
    public int HealthyThreshold { get; set => field = Settable(value); } = 2;

    /// <summary>Consecutive failures that make a Healthy destination Unhealthy. Default 2; at least 1.</summary>
    public int UnhealthyThreshold { get; set => field = Settable(value); } = 2;

    /// <summary>The statuses an HTTP probe passes on, as ranges. Default <c>"200-299"</c>.</summary>
    public string ExpectedStatus { get; set => field = Settable(value); } = "200-299";

    /// <summary>When set, an HTTP probe also needs its body (first 64 KiB) to contain this text (ordinal). Default <see langword="null"/>.</summary>
    public string? BodyContains { get; set => field = Settable(value); }

    /// <summary>
    /// When <see langword="true"/>, a new destination takes no traffic until its first probe passes (NGINX Plus's <c>mandatory</c>).
    /// Default <see langword="false"/>: Unknown counts as available, so traffic flows from the first second.
    /// </summary>
    public bool WaitForFirstProbe { get; set => field = Settable(value); }

    /// <summary>The interval to wait before the next probe, before jitter: <see cref="UnhealthyInterval"/> when shorter and <paramref name="unhealthyOrChanging"/>, else <see cref="Interval"/>.</summary>
    /// <param name="unhealthyOrChanging">Whether the destination is unhealthy, unknown, or has just failed a probe.</param>
    public TimeSpan IntervalFor(bool unhealthyOrChanging) =>
        unhealthyOrChanging && UnhealthyInterval < Interval ? UnhealthyInterval : Interval;

    /// <summary>Every problem with these options, each naming its key under <paramref name="prefix"/>; empty when valid.</summary>
    /// <param name="prefix">The configuration path of these options, such as <c>Rampart:Clusters:web:HealthCheck:Active</c>.</param>
    public IReadOnlyList<string> Validate(string prefix = "")
    {
        var errors = new OptionsErrors(prefix);
        errors.Check(Enum.IsDefined(Mode), nameof(Mode), "must be Http or Tcp", Mode);
        errors.Check(Path is ['/', ..], nameof(Path), "must start with '/'", Path);
        errors.Check(Interval > TimeSpan.Zero, nameof(Interval), "must be positive", Interval);
        errors.Check(UnhealthyInterval > TimeSpan.Zero, nameof(UnhealthyInterval), "must be positive", UnhealthyInterval);
        errors.Check(Timeout > TimeSpan.Zero, nameof(Timeout), "must be positive", Timeout);
        errors.Check(Jitter is >= 0 and <= 0.5, nameof(Jitter), "must be between 0 and 0.5", Jitter);
        errors.Check(HealthyThreshold >= 1, nameof(HealthyThreshold), "must be at least 1", HealthyThreshold);
        errors.Check(UnhealthyThreshold >= 1, nameof(UnhealthyThreshold), "must be at least 1", UnhealthyThreshold);
        errors.Check(StatusCodeSet.TryParse(ExpectedStatus, out _), nameof(ExpectedStatus), "must be status codes or ranges within 100-999, such as \"200-299\" or \"200,204\"", ExpectedStatus);
        errors.Check(BodyContains is null || BodyContains.Length > 0, nameof(BodyContains), "must not be empty when set", BodyContains);
        errors.AtMostADay((nameof(Interval), Interval), (nameof(UnhealthyInterval), UnhealthyInterval), (nameof(Timeout), Timeout));
        errors.AtMost(HealthyThreshold, 1000, nameof(HealthyThreshold));
        errors.AtMost(UnhealthyThreshold, 1000, nameof(UnhealthyThreshold));
        return errors.Errors;
    }
}
