using System.Diagnostics;

namespace Rampart.Proxy.Tests.Host;

/// <summary>The <c>rampart</c> executable, run as a real process.</summary>
public sealed class RampartExecutableTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rampart-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Validate_InvalidFile_ExitsTwoNamingEveryBadKey()
    {
        var file = Write("bad.json", """
            { "Rampart": {
                "Routes": [ { "Id": "all", "Cluster": "nope" } ],
                "Clusters": { "web": {
                  "Destinations": { "a": { "Address": "ftp://x" } },
                  "LoadBalancing": "Fastest",
                  "HealthCheck": { "Active": { "Interval": "00:00:00" } },
                  "CircuitBreaker": { "FailureRatio": 2 },
                  "HttpVersion": "3",
                  "Timout": "00:00:01" } } } }
            """);

        var (code, _, error) = await RunAsync("validate", "--config", file);

        Assert.Equal(2, code);
        Assert.Contains("Rampart:Clusters:web:Timout is not a known setting", error, StringComparison.Ordinal);
        Assert.Contains("Rampart:Routes:0:Cluster 'nope' is not a configured cluster", error, StringComparison.Ordinal);
        Assert.Contains("Rampart:Clusters:web:Destinations:a:Address must be an absolute http:// or https:// URL (was ftp://x)", error, StringComparison.Ordinal);
        Assert.Contains("Rampart:Clusters:web:LoadBalancing must be one of", error, StringComparison.Ordinal);
        Assert.Contains("Rampart:Clusters:web:HealthCheck:Active:Interval must be positive (was 00:00:00)", error, StringComparison.Ordinal);
        Assert.Contains("Rampart:Clusters:web:CircuitBreaker:FailureRatio must be between 0 (off) and 1 (was 2)", error, StringComparison.Ordinal);
        Assert.Contains("Rampart:Clusters:web:HttpVersion must be one of 1.1, 2 (was 3)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_InvalidFile_ExitsTwoBeforeListening()
    {
        var file = Write("bad.json", """{ "Rampart": { "Routes": [], "Clusters": {} } }""");

        var (code, _, error) = await RunAsync("--config", file);

        Assert.Equal(2, code);
        Assert.Contains("Rampart:Routes must have at least one route", error, StringComparison.Ordinal);
        Assert.Contains("Rampart:Clusters must have at least one cluster", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_BadDuration_NamesTheKey()
    {
        var file = Write("bad.json", """
            { "Rampart": { "Routes": [ { "Id": "all", "Cluster": "web" } ],
              "Clusters": { "web": { "Destinations": { "a": { "Address": "http://127.0.0.1:9001" } }, "AttemptTimeout": "soon" } } } }
            """);

        var (code, _, error) = await RunAsync("validate", "--config", file);

        Assert.Equal(2, code);
        Assert.Contains("Rampart:Clusters:web:AttemptTimeout must be a duration such as \"00:00:05\", \"5s\" or \"250ms\" (was soon)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_NotJson_ExitsTwo()
    {
        var file = Write("bad.json", "{ \"Rampart\": ");
        var (code, _, error) = await RunAsync("validate", "--config", file);
        Assert.Equal(2, code);
        Assert.Contains("not valid JSON at line 1", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_NotJson_SaysTheLineAndPosition()
    {
        var file = Write("bad.json", "{\n  \"Rampart\": {\n    \"Listen\": [ \"http://127.0.0.1:8080\" ],,\n  }\n}");

        var (code, _, error) = await RunAsync("validate", "--config", file);

        Assert.Equal(2, code);
        Assert.Contains("not valid JSON at line 3, position", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_DurationAsABareNumber_ExitsTwoShowingTheForm()
    {
        var file = Write("bad.json", """
            { "Rampart": { "Routes": [ { "Id": "all", "Cluster": "web" } ],
              "Clusters": { "web": { "Destinations": { "a": { "Address": "http://127.0.0.1:9001" } },
                "HealthCheck": { "Active": { "Enabled": true, "Interval": 5 } } } } } }
            """);

        var (code, _, error) = await RunAsync("validate", "--config", file);

        Assert.Equal(2, code);
        Assert.Contains("Rampart:Clusters:web:HealthCheck:Active:Interval must be a duration such as \"00:00:05\", \"5s\" or \"250ms\" (was 5)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_PortInUse_ExitsOneWithAClearLine()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var file = Write("good.json", $$"""
            { "Rampart": { "Listen": [ "http://127.0.0.1:{{port}}" ], "Admin": { "Listen": "" },
              "Routes": [ { "Id": "all", "Cluster": "web" } ],
              "Clusters": { "web": { "Destinations": { "a": { "Address": "http://127.0.0.1:9001" } } } } } }
            """);

        var (validated, _, _) = await RunAsync("validate", "--config", file);
        var (code, _, error) = await RunAsync("--config", file);

        Assert.Equal(0, validated); // only binding can tell
        Assert.Equal(1, code);
        Assert.Contains($"rampart: could not start: Failed to bind to address http://127.0.0.1:{port}: address already in use", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_HttpsListenWithoutACertificate_ExitsTwo()
    {
        var file = Write("bad.json", """
            { "Rampart": { "Listen": [ "https://127.0.0.1:8443" ], "Routes": [ { "Id": "all", "Cluster": "web" } ],
              "Clusters": { "web": { "Destinations": { "a": { "Address": "http://127.0.0.1:9001" } } } } } }
            """);

        var (code, _, error) = await RunAsync("validate", "--config", file);

        Assert.Equal(2, code);
        Assert.Contains("Rampart:Listen:0 is https:// but there is no certificate to serve it with", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_MissingFile_ExitsTwo()
    {
        var (code, _, error) = await RunAsync("validate", "--config", Path.Combine(_dir, "nowhere.json"));
        Assert.Equal(2, code);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_ValidFile_ExitsZero()
    {
        var file = Write("good.json", """
            { "Rampart": { "Listen": [ "http://127.0.0.1:8080" ],
              "Routes": [ { "Id": "all", "Match": { "Path": "/{**catch-all}" }, "Cluster": "web" } ],
              "Clusters": { "web": { "Destinations": { "a": { "Address": "http://127.0.0.1:9001" }, "b": { "Address": "http://127.0.0.1:9002" } },
                "HealthCheck": { "Active": { "Enabled": true, "Path": "/health", "Interval": "00:00:01", "Timeout": "00:00:00.500" } } } } } }
            """);

        var (code, output, error) = await RunAsync("validate", "--config", file);

        Assert.True(code == 0, error);
        Assert.Contains("is valid: 1 route(s), 1 cluster(s), 2 destination(s)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownCommand_ExitsTwoWithUsage()
    {
        var (code, _, error) = await RunAsync("frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("Usage:", error, StringComparison.Ordinal);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Rampart.Host.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}
