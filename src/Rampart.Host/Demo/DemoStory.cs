namespace Rampart.Host.Demo;

/// <summary>One scripted event: at a share of the run, put a backend into a fault (or heal it); a step that is not measured shows no outcome.</summary>
internal sealed record DemoStep(double At, string Backend, DemoFault Fault, string Text, bool Measured = true);

/// <summary>The three demonstrations: what they show, the settings they run with, and their script.</summary>
internal sealed record DemoStory(string Name, string Title, TimeSpan DefaultDuration, IReadOnlyList<DemoStep> Steps, IReadOnlyDictionary<string, string?> Settings)
{
    public static readonly string[] Backends = ["alpha", "bravo", "charlie"];

    private const string C = "Rampart:Clusters:demo:";

    private static readonly Dictionary<string, string?> Common = new()
    {
        ["Rampart:Routes:0:Id"] = "all",
        ["Rampart:Routes:0:Cluster"] = "demo",
        [C + "HealthCheck:Active:Enabled"] = "true",
        [C + "HealthCheck:Active:Path"] = "/health",
        [C + "HealthCheck:Active:Interval"] = "00:00:01",
        [C + "HealthCheck:Active:UnhealthyInterval"] = "00:00:00.500",
        [C + "HealthCheck:Active:Timeout"] = "00:00:00.500",
        [C + "HealthCheck:Passive:ConsecutiveFailures"] = "3",
        [C + "HealthCheck:Passive:BaseEjectionTime"] = "00:00:03",
        // A second ejection (a request failed on probation) lasts 4 s, not 6: the story's last step gets its traffic back before the end.
        [C + "HealthCheck:Passive:MaxEjectionTime"] = "00:00:04",
        [C + "HealthCheck:Passive:SuccessesToRestore"] = "2",
        [C + "CircuitBreaker:ConsecutiveFailures"] = "5",
        [C + "CircuitBreaker:BreakDuration"] = "00:00:02",
        [C + "AttemptTimeout"] = "00:00:01",
        [C + "Timeout"] = "00:00:05",
        [C + "Retry:MinRetriesPerWindow"] = "1000",
    };

    // Breakers that stay out of the way, so that a focused demo shows one mechanism alone.
    private static readonly Dictionary<string, string?> QuietBreaker = new()
    {
        [C + "CircuitBreaker:ConsecutiveFailures"] = "1000000",
        [C + "CircuitBreaker:FailureRatio"] = "0",
    };

    public static DemoStory Full { get; } = new("full", "Rampart keeps users safe while backends fail, one after another",
        TimeSpan.FromSeconds(36),
        [
            new(0.11, "alpha", DemoFault.Killed, "alpha is killed"),
            new(0.28, "bravo", DemoFault.Failing, "bravo starts answering 500"),
            new(0.44, "alpha", DemoFault.None, "alpha is restarted"),
            new(0.56, "charlie", DemoFault.Hanging, "charlie hangs: accepts, never answers"),
            new(0.67, "bravo", DemoFault.None, "bravo is fixed"),
            new(0.78, "charlie", DemoFault.None, "charlie is fixed"),
        ],
        Common);

    public static DemoStory Active { get; } = new("active", "Active health checks: probes find a dead backend, and its recovery",
        TimeSpan.FromSeconds(20),
        [
            new(0.20, "bravo", DemoFault.Killed, "bravo is killed"),
            new(0.55, "bravo", DemoFault.None, "bravo is restarted"),
        ],
        Merge(Common, QuietBreaker, new() { [C + "HealthCheck:Passive:Enabled"] = "false" }));

    public static DemoStory Passive { get; } = new("passive", "Passive health checks: real traffic ejects a failing backend, probation brings it back",
        TimeSpan.FromSeconds(20),
        [
            new(0.20, "bravo", DemoFault.Failing, "bravo starts answering 500"),
            new(0.55, "bravo", DemoFault.None, "bravo is fixed"),
        ],
        Merge(Common, QuietBreaker, new() { [C + "HealthCheck:Active:Enabled"] = "false" }));

    // bravo answers 500 for about a second, then is fine for about a second, four times; then it is fixed for good.
    // Every failure multiplies its ejection time and break duration; passing probes bring it back anyway.
    public static DemoStory Flap { get; } = new("flap", "Recovery follows the probes: a backend that flapped gets its traffic back as soon as it is fixed",
        TimeSpan.FromSeconds(24),
        [
            new(0.15, "bravo", DemoFault.Failing, "bravo starts flapping: 500 for 1 s, fine for 1 s"),
            new(0.19, "bravo", DemoFault.None, "bravo flaps: fine", Measured: false),
            new(0.23, "bravo", DemoFault.Failing, "bravo flaps: 500", Measured: false),
            new(0.27, "bravo", DemoFault.None, "bravo flaps: fine", Measured: false),
            new(0.31, "bravo", DemoFault.Failing, "bravo flaps: 500", Measured: false),
            new(0.35, "bravo", DemoFault.None, "bravo flaps: fine", Measured: false),
            new(0.39, "bravo", DemoFault.Failing, "bravo flaps: 500", Measured: false),
            new(0.43, "bravo", DemoFault.None, "bravo is fixed for good"),
        ],
        Merge(Common, new()
        {
            [C + "HealthCheck:Passive:MaxEjectionTime"] = "00:01:00", // the growth is not capped early: recovery must not wait for it
            [C + "CircuitBreaker:MaxBreakDuration"] = "00:01:00",
        }));

    public static DemoStory? Find(string name) => name switch
    {
        "full" => Full,
        "active" => Active,
        "passive" => Passive,
        "flap" => Flap,
        _ => null,
    };

    private static Dictionary<string, string?> Merge(params Dictionary<string, string?>[] parts)
    {
        var merged = new Dictionary<string, string?>();
        foreach (var part in parts)
        {
            foreach (var (key, value) in part)
            {
                merged[key] = value;
            }
        }

        return merged;
    }
}
