using CsCheck;
using Microsoft.Extensions.Configuration;
using Rampart.Proxy.Configuration;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Configuration;

/// <summary>
/// Random mutations of a valid configuration: each one either fails validation with messages that name their
/// keys, or starts and serves a request. None ends in an unhandled exception.
/// </summary>
public sealed class GeneratedConfigurationTests
{
    private static readonly string[] Values =
    [
        "", " ", "0", "-1", "1", "5", "3", "2147483648", "-2147483649", "9223372036854775808", "1e309", "NaN", "abc", "true", "null", "{",
        "00:00:00", "-00:00:01", "00:00:00.001", "250ms", "5s", "2m", "30.00:00:00", "10675199.02:48:05.4775807", "1.5", "0.5",
        "http://", "http://127.0.0.1:0", "http://127.0.0.1:1", "http://example.com:80/x", "ftp://x", "https://127.0.0.1:1",
        "Http2", "Random", "LeastRequests", "Replace", "Both", "Tcp", "500-599", "600-100", "/", "/{**rest}", "/{", new string('x', 5000),
    ];

    [Fact]
    public async Task RandomMutations_FailValidationNamingKeys_OrStartAndServe()
    {
        await using var backend = await TestBackend.StartAsync("b0");
        var valid = BaseSettings(backend);
        var keys = valid.Keys.ToArray();
        var sections = keys.Select(k => k[..k.LastIndexOf(':')]).Distinct().ToArray();
        var mutation =
            from kind in Gen.Int[0, 3]
            from key in Gen.Int[0, keys.Length - 1]
            from section in Gen.Int[0, sections.Length - 1]
            from value in Gen.Int[0, Values.Length - 1]
            select (kind, key, section, value);
        var startable = new List<Dictionary<string, string?>>();
        var invalid = 0;

        mutation.Array[1, 4].Sample(mutations =>
        {
            var settings = new Dictionary<string, string?>(valid);
            foreach (var (kind, key, section, value) in mutations)
            {
                switch (kind)
                {
                    case 0 or 1: settings[keys[key]] = Values[value]; break;
                    case 2: settings.Remove(keys[key]); break;
                    default: settings[sections[section] + ":Unexpected"] = Values[value]; break;
                }
            }

            RampartConfiguration.Load(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), out var errors);
            foreach (var error in errors)
            {
                Assert.True(error.StartsWith("Rampart", StringComparison.Ordinal), $"an error that names no key: {error}");
            }

            if (errors.Count > 0)
            {
                invalid++;
            }
            else if (startable.Count < 25)
            {
                startable.Add(settings);
            }
        }, iter: 3000, seed: "0N0XIzNsQ0O2");

        Assert.True(invalid > 1000, $"only {invalid} mutants were invalid: the generator hardly tries");
        Assert.True(startable.Count >= 10, $"only {startable.Count} mutants were valid: the start check proves little");
        foreach (var settings in startable)
        {
            await using var server = await RampartProxyServer.StartAsync(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), "http://127.0.0.1:0");
            using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };
            using var response = await client.GetAsync("/generated");
            Assert.InRange((int)response.StatusCode, 200, 599);
        }
    }

    private static Dictionary<string, string?> BaseSettings(TestBackend backend)
    {
        const string c = "Rampart:Clusters:web:";
        return new Dictionary<string, string?>
        {
            ["Rampart:Listen:0"] = "http://127.0.0.1:0",
            ["Rampart:Admin:Listen"] = "http://127.0.0.1:0",
            ["Rampart:Admin:Token"] = "t",
            ["Rampart:ShutdownTimeout"] = "00:00:05",
            ["Rampart:ForwardedHeaders"] = "Append",
            ["Rampart:Limits:MaxRequestBodySize"] = "1000000",
            ["Rampart:Limits:RequestHeadersTimeout"] = "00:00:10",
            ["Rampart:Routes:0:Id"] = "all",
            ["Rampart:Routes:0:Cluster"] = "web",
            ["Rampart:Routes:0:Match:Path"] = "/{**catch-all}",
            [c + "Destinations:a:Address"] = backend.Address.ToString(),
            [c + "Destinations:b:Address"] = backend.Address.ToString(),
            [c + "LoadBalancing"] = "PowerOfTwoChoices",
            [c + "AttemptTimeout"] = "00:00:02",
            [c + "Timeout"] = "00:00:05",
            [c + "FailureStatusCodes"] = "500,502-504",
            [c + "PanicThreshold"] = "0.5",
            [c + "SlowStartWindow"] = "00:00:01",
            [c + "HttpVersion"] = "1.1",
            [c + "Retry:MaxAttempts"] = "3",
            [c + "Retry:BudgetRatio"] = "0.2",
            [c + "HealthCheck:Active:Enabled"] = "true",
            [c + "HealthCheck:Active:Path"] = "/health",
            [c + "HealthCheck:Active:Interval"] = "00:00:01",
            [c + "HealthCheck:Active:Timeout"] = "00:00:00.500",
            [c + "HealthCheck:Active:HealthyThreshold"] = "2",
            [c + "HealthCheck:Passive:ConsecutiveFailures"] = "3",
            [c + "HealthCheck:Passive:BaseEjectionTime"] = "00:00:10",
            [c + "HealthCheck:Passive:MaxEjectionPercent"] = "50",
            [c + "CircuitBreaker:ConsecutiveFailures"] = "5",
            [c + "CircuitBreaker:FailureRatio"] = "0.5",
            [c + "CircuitBreaker:BreakDuration"] = "00:00:05",
            [c + "CircuitBreaker:SlowCallThreshold"] = "00:00:01",
        };
    }
}
