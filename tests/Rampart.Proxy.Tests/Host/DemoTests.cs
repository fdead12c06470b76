using Rampart.Host.Demo;

namespace Rampart.Proxy.Tests.Host;

/// <summary>The built-in demonstrations, run for real (backends, proxy, load) with plain output.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task FullDemo_ZeroClientErrors_EveryFailureDetectedAndHealed()
    {
        var (code, output) = await RunAsync("--no-live", "--duration", "24");

        Assert.True(code == 0, output);
        Assert.Matches(@"requests sent: \d+, succeeded: \d+, client-visible errors: 0", output);
        Assert.Contains("Every failure was detected and every healed backend got its traffic back, with 0 client-visible errors.", output, StringComparison.Ordinal);
        foreach (var step in DemoStory.Full.Steps)
        {
            Assert.Contains(step.Text, output, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("NOT", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ActiveDemo_ProbesFindTheDeadBackendAndItsRecovery()
    {
        var (code, output) = await RunAsync("active", "--no-live", "--duration", "12");

        Assert.True(code == 0, output);
        Assert.Contains("bravo is killed", output, StringComparison.Ordinal);
        Assert.Contains("detected after", output, StringComparison.Ordinal);
        Assert.Contains("Active: 2 consecutive probe failures: connection refused", output, StringComparison.Ordinal);
        Assert.Contains("client-visible errors: 0", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FlapDemo_TheFlappingBackendIsBroughtBackByItsProbes()
    {
        var (code, output) = await RunAsync("flap", "--no-live");

        Assert.True(code == 0, output); // every outcome resolved: the fixed backend served again before the end
        Assert.Contains("bravo is fixed for good", output, StringComparison.Ordinal);
        Assert.Contains("probe passes since it failed", output, StringComparison.Ordinal); // not the multiplied ejection time
        Assert.Contains("client-visible errors: 0", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadOptions_ExitTwo()
    {
        var (code, _) = await RunAsync("sideways");
        Assert.Equal(2, code);
        (code, _) = await RunAsync("--duration", "0");
        Assert.Equal(2, code);
    }

    private static async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        var code = await DemoCommand.RunAsync([.. args], output, output);
        return (code, output.ToString());
    }
}
