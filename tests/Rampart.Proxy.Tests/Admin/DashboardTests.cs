using Microsoft.Playwright;
using Rampart.Health;
using Rampart.Proxy.Admin;
using Rampart.Proxy.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Rampart.Proxy.Tests.Admin;

/// <summary>The live dashboard in a real headless Chromium (Debian's, driven by Playwright).</summary>
public sealed class DashboardTests(ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task Dashboard_ShowsEveryDestination_AndAKilledOneChangesStateWithinSeconds()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium (.ci/run does)");
        await using var f = await ProxyFixture.StartAsync(settings: new Dictionary<string, string?> { ["Rampart:Admin:Token"] = "s3cret" });
        await using var admin = await RampartAdminServer.StartAsync(f.Proxy, TimeProvider.System, "http://127.0.0.1:0");
        await Task.WhenAll(f.Cluster.Destinations.Select(d => Wait.ForActiveStateAsync(d, ActiveHealthState.Healthy)));
        await new Load(f.Client).RunAsync(60);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1400, Height = 800 } });
        await page.GotoAsync(new Uri(admin.Address, "/?access_token=s3cret").ToString());

        var rows = page.Locator("tr[data-destination]");
        await Assertions.Expect(rows).ToHaveCountAsync(3, new() { Timeout = 10_000 });
        await Assertions.Expect(page.Locator("tr[data-destination='b1']")).ToHaveAttributeAsync("data-state", "available");

        await f.Backends[1].StopAsync();
        var load = new Load(f.Client);
        var traffic = load.RunAsync(200, workers: 2);
        await Assertions.Expect(page.Locator("tr[data-destination='b1']")).Not.ToHaveAttributeAsync("data-state", "available", new() { Timeout = 10_000 });
        await traffic;

        var state = await page.Locator("tr[data-destination='b1']").GetAttributeAsync("data-state");
        Assert.Contains(state, new[] { "unhealthy", "ejected", "open" });
        await Assertions.Expect(page.Locator("tr[data-destination='b0']")).ToHaveAttributeAsync("data-state", "available");
        await Assertions.Expect(page.Locator("#log li").First).ToContainTextAsync("b1");
        var screenshot = Path.Combine(ArtifactsDirectory(), "dashboard.png");
        await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
        output.WriteLine($"screenshot: {screenshot}; b1 is now '{state}'");
        Assert.Empty(load.Errors);
    }

    [Fact]
    public async Task Dashboard_WithoutTheToken_Is401()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?> { ["Rampart:Admin:Token"] = "s3cret" });
        await using var admin = await RampartAdminServer.StartAsync(f.Proxy, TimeProvider.System, "http://127.0.0.1:0");
        using var client = new HttpClient { BaseAddress = admin.Address };
        using var refused = await client.GetAsync("/");
        using var allowed = await client.GetAsync("/?access_token=s3cret");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("text/html", allowed.Content.Headers.ContentType?.MediaType);
    }

    /// <summary><c>artifacts/</c> at the repository root (kept out of git), so CI and people find the screenshot.</summary>
    private static string ArtifactsDirectory()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Rampart.slnx")))
        {
            dir = dir.Parent;
        }

        var artifacts = Path.Combine(dir?.FullName ?? AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        return artifacts;
    }
}
