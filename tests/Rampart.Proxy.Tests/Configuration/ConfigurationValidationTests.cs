using Microsoft.Extensions.Configuration;
using Rampart.Proxy.Configuration;

namespace Rampart.Proxy.Tests.Configuration;

/// <summary>Every configuration that validates starts; every one that cannot start fails validation, naming its key.</summary>
public sealed class ConfigurationValidationTests
{
    private const string Cluster = "Rampart:Clusters:web:";

    [Theory]
    [InlineData("250ms", 0, 0, 0, 250)]
    [InlineData("5s", 0, 0, 5, 0)]
    [InlineData("1.5s", 0, 0, 1, 500)]
    [InlineData("2m", 0, 2, 0, 0)]
    [InlineData("1h", 1, 0, 0, 0)]
    [InlineData("00:00:05", 0, 0, 5, 0)]
    [InlineData(" 00:01:00 ", 0, 1, 0, 0)]
    public void Durations_UnitFormsAndTimeSpans_Accepted(string text, int hours, int minutes, int seconds, int milliseconds)
    {
        var options = Load(out var errors, (Cluster + "HealthCheck:Active:Interval", text));

        Assert.Empty(errors);
        Assert.Equal(new TimeSpan(0, hours, minutes, seconds, milliseconds), options.Clusters["web"].HealthCheck.Active.Interval);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("0.5")]
    [InlineData("5 seconds")]
    [InlineData("5sec")]
    [InlineData("ms")]
    public void Durations_BareNumbersAndUnknownUnits_RefusedShowingTheForm(string text)
    {
        Load(out var errors, (Cluster + "HealthCheck:Active:Interval", text));

        var error = Assert.Single(errors);
        Assert.Equal($"{Cluster}HealthCheck:Active:Interval must be a duration such as \"00:00:05\", \"5s\" or \"250ms\" (was {text})", error);
    }

    [Fact]
    public void TypeError_ReportedOnceForItsKey_NoFollowOnErrors()
    {
        // Left at its default (10 s), AttemptTimeout would make "Timeout must be at least AttemptTimeout" appear too.
        Load(out var errors, (Cluster + "AttemptTimeout", "soon"), (Cluster + "Timeout", "00:00:05"), (Cluster + "Retry:MaxAttempts", "many"));

        Assert.Equal(
            [
                $"{Cluster}AttemptTimeout must be a duration such as \"00:00:05\", \"5s\" or \"250ms\" (was soon)",
                $"{Cluster}Retry:MaxAttempts must be a whole number (was many)",
            ],
            errors.Order());
    }

    [Fact]
    public void TypeError_OtherProblemsStillReported()
    {
        Load(out var errors, (Cluster + "AttemptTimeout", "soon"), (Cluster + "LoadBalancing", "Fastest"), (Cluster + "Timout", "1s"));

        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.StartsWith(Cluster + "LoadBalancing must be one of", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith(Cluster + "Timout is not a known setting", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("HealthCheck:Active:Interval", "30.00:00:00")]
    [InlineData("HealthCheck:Passive:BaseEjectionTime", "10675199.02:48:05")]
    [InlineData("CircuitBreaker:BreakDuration", "2d")]
    [InlineData("AttemptTimeout", "25h")]
    public void Durations_OverADay_Refused(string key, string value)
    {
        var overrides = new List<(string, string?)> { (Cluster + key, value) };
        if (key == "AttemptTimeout")
        {
            overrides.Add((Cluster + "Timeout", value));
        }

        Load(out var errors, [.. overrides]);

        Assert.Contains($"{Cluster}{key} must be at most 1.00:00:00 (one day) (was {Durations(value)})", errors);
    }

    [Theory]
    [InlineData("Rampart:Listen:0", "http://127.0.0.1:8080/api", "must be only a scheme, an address and a port")]
    [InlineData("Rampart:Listen:0", "http://proxy.example.com:8080", "must name an IP address or localhost")]
    [InlineData("Rampart:Listen:0", "http://localhost:0", "cannot take port 0 with localhost")]
    [InlineData("Rampart:Listen:0", "https://127.0.0.1:8443", "is https:// but there is no certificate")]
    [InlineData("Rampart:Listen:0", "ftp://127.0.0.1:21", "must be an absolute http:// or https:// URL")]
    [InlineData("Rampart:Listeners:0:Url", "http://127.0.0.1:8080?x=1", "must be only a scheme, an address and a port")]
    [InlineData("Rampart:Admin:Listen", "https://127.0.0.1:9901", "must be http://")]
    [InlineData("Rampart:Admin:Listen", "http://127.0.0.1:9901/admin", "must be only a scheme, an address and a port")]
    [InlineData("Rampart:Admin:Listen", "http://0.0.0.0:9901", "is not a loopback address: set Rampart:Admin:Token")]
    public void ListenAddresses_ThatCannotBind_Refused(string key, string url, string problem)
    {
        Load(out var errors, (key, url));

        Assert.Contains(errors, e => e.StartsWith(key + " ", StringComparison.Ordinal) && e.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void ListenAddresses_TwiceTheSame_Refused()
    {
        Load(out var errors, ("Rampart:Listen:0", "http://127.0.0.1:8080"), ("Rampart:Listeners:0:Url", "http://127.0.0.1:8080"));

        Assert.Contains("Rampart:Listeners:0:Url listens on the same address and port as another listener (was http://127.0.0.1:8080)", errors);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080")]
    [InlineData("http://[::1]:8080")]
    [InlineData("http://0.0.0.0:8080")]
    [InlineData("http://localhost:8080")]
    public void ListenAddresses_AddressesAndLocalhost_Accepted(string url)
    {
        Load(out var errors, ("Rampart:Listen:0", url));
        Assert.Empty(errors);
    }

    [Fact]
    public void Limits_Validated_NamingTheKey()
    {
        Load(out var errors, ("Rampart:Limits:MaxRequestLineSize", "100000"), ("Rampart:Limits:MinRequestBodyDataRateGracePeriod", "1s"));

        Assert.Contains("Rampart:Limits:MaxRequestLineSize must be between 256 and MaxRequestHeadersTotalSize (was 100000)", errors);
        Assert.Contains("Rampart:Limits:MinRequestBodyDataRateGracePeriod must be more than 00:00:01 and at most 01:00:00 (was 00:00:01)", errors);
    }

    [Fact]
    public void AccessLogInAFolderThatDoesNotExist_NamesTheKey()
    {
        Load(out var errors, ("Rampart:AccessLog:Enabled", "true"), ("Rampart:AccessLog:Path", "/no/such/folder/access.log"));

        Assert.Contains("Rampart:AccessLog:Path '/no/such/folder/access.log' is in a folder that does not exist (/no/such/folder)", errors);
    }

    [Fact]
    public void ValidConfiguration_LoadsAsAnImmutableSnapshot_InvalidStaysEditable()
    {
        var options = Load(out var errors);
        Assert.Empty(errors);
        Assert.True(options.IsFrozen && options.Clusters["web"].IsFrozen && options.Routes[0].IsFrozen);
        Assert.Throws<InvalidOperationException>(() => options.Clusters["web"].Timeout = TimeSpan.FromSeconds(1));
        Assert.Throws<NotSupportedException>(() => options.Routes.Clear());

        var invalid = Load(out errors, ("Rampart:Clusters:web:Retry:MaxAttempts", "0"));
        Assert.NotEmpty(errors);
        Assert.False(invalid.IsFrozen); // what could be bound, for a caller to look at or fix
    }

    internal static RampartOptions Load(out IReadOnlyList<string> errors, params (string Key, string? Value)[] overrides)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Rampart:Routes:0:Id"] = "all",
            ["Rampart:Routes:0:Cluster"] = "web",
            [Cluster + "Destinations:a:Address"] = "http://127.0.0.1:9001",
        };
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        return RampartConfiguration.Load(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), out errors);
    }

    private static string Durations(string text) =>
        Rampart.Configuration.Durations.TryParse(text, out var value) ? value.ToString() : text;
}
